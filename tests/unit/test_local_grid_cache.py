"""The in-process cache of rendered grids (web/availability_cache.py) is bounded by the memory
its values take, so that a worker stays within issue 12's 90 MB however many facilities and
months residents look at; least recently used out first."""

from __future__ import annotations

import sys

from web.availability_cache import LOCAL_MAX_BYTES, LocalGridCache

# A month of six rooms: ~60,000 characters, Japanese among them (two bytes a character).
GRID = "<td>○空き</td>" * 5000


def test_values_are_bounded_by_their_memory_not_their_count():
    cache = LocalGridCache(entries=1000)
    for i in range(100):
        cache.set(f"grid:{i}", GRID + str(i))
    assert cache.size <= LOCAL_MAX_BYTES
    kept = [i for i in range(100) if cache.get(f"grid:{i}") is not None]
    # Two bytes a character: half as many grids as the bound in characters would hold.
    assert len(kept) == LOCAL_MAX_BYTES // sys.getsizeof(GRID + "10")
    assert kept == list(range(100 - len(kept), 100)), "the most recent ones are kept"


def test_least_recently_used_goes_first_and_the_entries_bound_holds():
    cache = LocalGridCache(entries=3)
    for key in "abc":
        cache.set(key, GRID)
    assert cache.get("a") == GRID  # a is now the most recently used
    cache.set("d", GRID)
    assert cache.get("b") is None
    assert [cache.get(k) is not None for k in "acd"] == [True, True, True]


def test_a_replaced_value_is_counted_once_and_a_value_too_big_is_not_kept():
    cache = LocalGridCache(entries=10, max_bytes=sys.getsizeof(GRID) * 2)
    cache.set("a", GRID)
    cache.set("a", GRID + "x")
    assert cache.size == sys.getsizeof(GRID + "x")
    cache.set("huge", GRID * 3)
    assert cache.get("huge") is None
    assert cache.get("a") == GRID + "x"
