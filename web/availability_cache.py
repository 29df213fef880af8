"""The shared part of 施設別空き状況 — a facility's rooms × days over a period, rendered, with
each room's day statuses — cached per facility under its availability version
(models.availability_version), so that residents looking at the same facility share one
computation and one rendering (blueprints/search/day_grid.py). In Redis when REDIS_URL is set (every
instance shares it), otherwise in a size-bounded in-process LRU. No Flask here: the search
operations take it as a plain object. A cache that fails is a miss, never an error page."""

from __future__ import annotations

import hashlib
import logging
from typing import Protocol

from web.bounded_memo import BoundedMemo

log = logging.getLogger(__name__)

# Old versions are never asked for again; Redis forgets them after this.
REDIS_TTL_SECONDS = 24 * 3600
# The in-process cache keeps at most this much memory of values in all (per worker), whatever
# AVAILABILITY_CACHE_ENTRIES allows. A month of six rooms is about 60,000 characters of HTML,
# two bytes each once it holds Japanese: ~120 KB, so about 25 such grids. Issue 12 holds a
# worker to 90 MB at factor 10; it starts at ~80 MB, and the earlier bound of 6,000,000
# characters (~12 MB) took a worker to 96 MB once every facility had been looked at. The
# slot screen's bodies have 1 MB of their own (blueprints/search/slot_grid.py).
LOCAL_MAX_BYTES = 3 * 1024 * 1024


class GridCache(Protocol):
    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str) -> None: ...


class LocalGridCache(BoundedMemo[str, str]):
    """At most `entries` values and `max_bytes` of memory for them (as Python holds the
    strings: sys.getsizeof), least recently used out first; safe across threads."""

    def __init__(self, entries: int, max_bytes: int = LOCAL_MAX_BYTES):
        super().__init__(max_bytes, entries)


class RedisGridCache:
    def __init__(self, client, prefix: str):
        self.client = client
        self.prefix = prefix

    def get(self, key: str) -> str | None:
        try:
            value = self.client.get(self.prefix + key)
        except Exception as exc:  # a cache that fails is a miss
            log.warning("availability cache: %s", exc)
            return None
        return value.decode() if value is not None else None

    def set(self, key: str, value: str) -> None:
        try:
            self.client.set(self.prefix + key, value, ex=REDIS_TTL_SECONDS)
        except Exception as exc:
            log.warning("availability cache: %s", exc)


def make_grid_cache(redis_url: str | None, database_url: str, entries: int) -> GridCache | None:
    """None when `entries` is 0 (no caching: every grid computed, the bench's misses)."""
    if entries <= 0:
        return None
    if redis_url:
        import redis

        # One namespace per database, so that two sites (or test databases) on one Redis
        # never read each other's statuses.
        namespace = hashlib.sha256(database_url.encode()).hexdigest()[:12]
        return RedisGridCache(redis.Redis.from_url(redis_url), f"grid:{namespace}:")
    return LocalGridCache(entries)
