"""Give memory a build has freed back to the operating system.

A full build counts words and terms in chunks (one per parse task) and stacks them
into one matrix each; the chunks' arrays are small, so they live in the C heap, and
once freed glibc keeps their pages for reuse rather than returning them (freed blocks
between live ones cannot be given back by shrinking the heap). The large matrices
built next are mapped separately and never reuse them, so the build's peak resident
memory grew by all of it (about 300 MB per table at 57k posts). `malloc_trim`
returns every whole free page of the heap; elsewhere than glibc it is not available
and nothing is done.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache


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
