"""Memory habits of a build: give freed memory back, and collect garbage rarely.

Freed memory:

A full build counts words and terms in chunks (one per parse task) and stacks them
into one matrix each; the chunks' arrays are small, so they live in the C heap, and
once freed glibc keeps their pages for reuse rather than returning them (freed blocks
between live ones cannot be given back by shrinking the heap). The large matrices
built next are mapped separately and never reuse them, so the build's peak resident
memory grew by all of it (about 300 MB per table at 57k posts). `malloc_trim`
returns every whole free page of the heap; elsewhere than glibc it is not available
and nothing is done.

Garbage collection: a build holds millions of long-lived objects (catalog records,
vocabularies, posts), and with Python's default thresholds the cyclic collector walks
all of them again every few hundred thousand allocations. During a build it runs a
hundred times less often (`rare_collections`): in an incremental build at 10k posts
the collector's own time went from about 0.25 s to 0.1 s (measured with gc.callbacks).
A build makes little cyclic garbage; its memory is freed by reference counting as
usual.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

# The youngest generation is collected after this many more allocations than frees
# (Python's default: 700); the older ones after 10 of those each, as by default.
BUILD_GC_THRESHOLD = 70_000


def release_free_memory() -> bool:
    """Return the heap's free pages to the system; False when the C library cannot."""
    trim = _malloc_trim()
    return bool(trim(0)) if trim is not None else False


@cache
def _malloc_trim():  # noqa: ANN202 - a ctypes function or None
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return None


@contextmanager
def rare_collections() -> Iterator[None]:
    """Collect cyclic garbage rarely while the block runs (see the module's docstring);
    the previous thresholds are restored after it, also on an error."""
    previous = gc.get_threshold()
    gc.set_threshold(max(previous[0], BUILD_GC_THRESHOLD), *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)
