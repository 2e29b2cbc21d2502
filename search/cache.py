"""A small LRU cache of answers, one per open build.

Site search traffic repeats itself (popular queries, the same related widget on every
view of a post), and a build never changes once published, so an answer computed once
is right until the next build is opened or a scheduled post goes live. The cache lives
on the `LoadedBuild`, so a new build starts empty; keys include how many scheduled
posts are visible, so a post whose date comes is never hidden by a cached answer.
Bounded by entry count; thread-safe.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

DEFAULT_ENTRIES = 4096


class AnswerCache:
    """Least-recently-used answers, at most `entries` of them."""

    def __init__(self, entries: int = DEFAULT_ENTRIES) -> None:
        self.entries = entries
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._items)

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The cached answer for `key`, computing and keeping it on a miss.

        Exceptions are not cached: a bad request fails the same way every time anyway.
        """
        if self.entries <= 0:
            return compute()
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key]
        value = compute()
        with self._lock:
            self.misses += 1
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.entries:
                self._items.popitem(last=False)
        return value
