"""A small LRU cache of answers, one per open build.

Site search traffic repeats itself (popular queries, the same related widget on every
view of a post), and a build never changes once published, so an answer computed once
is right until the next build is opened or a scheduled post goes live. The cache lives
on the `LoadedBuild`, so a new build starts empty; keys include how many scheduled
posts are visible, so a post whose date comes is never hidden by a cached answer.
Bounded by entry count, and optionally by total size (the HTTP layer keeps encoded
answers, whose sizes vary 100-fold); thread-safe. Optionally, once the cache is full,
an answer is kept only when its key is asked for a second time: site search has a long
tail of queries made once, and keeping each of them pushes out the popular answers (at
10k posts, two seconds of never-repeated searches are about 1,000 encoded pages of some
30 KB: a worker's whole 32 MB). Until the cache first runs out of room (after a worker
starts), every answer is kept: nothing popular can be pushed out yet, and waiting for a
second request would answer each popular URL twice in every worker (for searches, the
build's own answer cache below saves most of the second one; the encoding is what is
left). From then on the rule holds for good: room freed by evicting one large answer
would otherwise let one-off answers back in (a simulation of Zipf-popular and one-off
keys of mixed sizes kept 3-5 MB of one-offs and hit less often than waiting always).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

# Answers are large (a page of hits plus four facets); repeated URLs are served from
# the HTTP layer's own cache of encoded answers, so few are kept here.
DEFAULT_ENTRIES = 256


class AnswerCache:
    """Least-recently-used answers: at most `entries` of them, and at most `max_size` in
    total as measured by `size_of` when both are given."""

    def __init__(
        self,
        entries: int = DEFAULT_ENTRIES,
        max_size: int | None = None,
        size_of: Callable[[Any], int] | None = None,
        admit_repeats_of: int = 0,
    ) -> None:
        """With `admit_repeats_of`, once the cache has run out of room, an answer is kept
        only if its key was missed before among the last that many missed keys
        (remembered by hash, a few bytes each)."""
        self.entries = entries
        self.max_size = max_size
        self._size_of = size_of
        self.size = 0
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._admit_repeats_of = admit_repeats_of
        self._missed_once: OrderedDict[int, None] = OrderedDict()
        self._filled = False  # ran out of room once: admission by repeats from then on
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
        size = self._measure(value)
        if self.max_size is not None and size > self.max_size:
            return value  # larger than the whole cache: answered, not kept
        with self._lock:
            self.misses += 1
            waits = self._admit_repeats_of and not self._keeps_first_miss(size)
            if waits and not self._seen_before(key):
                return value  # asked for once so far: answered, not kept
            if key in self._items:
                self.size -= self._measure(self._items[key])
            self._items[key] = value
            self._items.move_to_end(key)
            self.size += size
            while len(self._items) > self.entries or (
                self.max_size is not None and self.size > self.max_size
            ):
                self.size -= self._measure(self._items.popitem(last=False)[1])
        return value

    def _keeps_first_miss(self, size: int) -> bool:
        """Whether an answer of `size` is kept on its first miss: only until the cache
        first lacks room for one without evicting another (hold the lock)."""
        if not self._filled:
            self._filled = len(self._items) >= self.entries or (
                self.max_size is not None and self.size + size > self.max_size
            )
        return not self._filled

    def _seen_before(self, key: Hashable) -> bool:
        """Whether `key` was missed recently; remembers it if not (hold the lock)."""
        marker = hash(key)
        if marker in self._missed_once:
            del self._missed_once[marker]
            return True
        self._missed_once[marker] = None
        if len(self._missed_once) > self._admit_repeats_of:
            self._missed_once.popitem(last=False)
        return False

    def _measure(self, value: Any) -> int:
        return self._size_of(value) if self._size_of else 0
