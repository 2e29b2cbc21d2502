"""Run one step of a build in a forked process beside the others.

A build's steps mostly run on one core (weighing matrices, writing Whoosh segments);
with two cores, a step that needs nothing the others make can run in a second process
at the same time. Below `PARALLEL_STEPS_FROM` posts, starting that process costs more
than the step, so it runs in place.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import ExitStack
from typing import Any, TypeVar

PARALLEL_STEPS_FROM = 2000
T = TypeVar("T")


def run_beside(stack: ExitStack, posts: int, function: Callable[..., T], *args: Any) -> Future[T]:
    """Start `function(*args)` in a forked process when the corpus is large enough for
    two cores to pay (PARALLEL_STEPS_FROM posts), else run it here; the result either
    way. The arguments are pickled on the way: pass small ones. An exception in the
    process is raised by `result()`; the process is waited for when `stack` closes."""
    if posts < PARALLEL_STEPS_FROM or (os.cpu_count() or 1) < 2:
        done: Future[T] = Future()
        try:
            done.set_result(function(*args))
        except Exception as exc:
            done.set_exception(exc)
        return done
    # Fork, like the parse pool: the child closes its copy of the reindex lock.
    context = multiprocessing.get_context("fork")
    pool = stack.enter_context(ProcessPoolExecutor(max_workers=1, mp_context=context))
    return pool.submit(function, *args)
