"""A least-recently-used memo bounded by the memory its values take (issue 12): what a
worker keeps of rendered pages and parts must stay within the worker's memory budget
(README "Worker memory"), so every such memo is bounded in bytes, not only in entries."""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class BoundedMemo(Generic[K, V]):
    """At most `max_bytes` of memory for its values, as `sizeof` measures them (by default
    as Python holds them: sys.getsizeof), and at most `entries` values when given; least
    recently used out first; safe across threads. A value larger than the bound is not kept."""

    def __init__(self, max_bytes: int, entries: int | None = None, sizeof: Callable[[V], int] = sys.getsizeof):
        self.max_bytes = max_bytes
        self.entries = entries
        self._sizeof = sizeof
        self._values: OrderedDict[K, V] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def size(self) -> int:
        """The memory its values take now, in bytes."""
        return self._bytes

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._values.get(key)
            if value is not None:
                self._values.move_to_end(key)
            return value

    def set(self, key: K, value: V) -> None:
        sizeof = self._sizeof
        size = sizeof(value)
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._values.pop(key, None)
            self._bytes += size - (sizeof(old) if old is not None else 0)
            self._values[key] = value
            entries = self.entries
            while self._bytes > self.max_bytes or (entries is not None and len(self._values) > entries):
                _key, dropped = self._values.popitem(last=False)
                self._bytes -= sizeof(dropped)
