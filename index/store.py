"""The index directory: immutable builds, an atomically swapped `current` link, one writer.

    INDEX_DIR/
      current -> builds/<build id>     (symlink, replaced with os.replace)
      builds/<build id>/               (complete, checked builds; never modified)
      builds/.tmp-<build id>/          (a build in progress; removed if abandoned)
      reindex.lock                     (flock held by the one running reindex)

Readers resolve `current` on each request, so a swap is seen by every worker on its
next request while requests in flight finish on the build they started with.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import multiprocessing.util
import os
import shutil
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .errors import BuildCorrupt, NoBuildToRollBackTo, ReindexLocked

CURRENT_LINK = "current"
BUILDS_DIR = "builds"
LOCK_FILE = "reindex.lock"
TMP_PREFIX = ".tmp-"
_PR_SET_PDEATHSIG = 1  # prctl option (linux/prctl.h)


def current_build_dir(index_dir: Path) -> Path | None:
    """Return the directory the `current` link points to, or None before the first build."""
    target = current_link(index_dir)
    return None if target is None else (index_dir / target).resolve()


def current_link(index_dir: Path) -> str | None:
    """The text of the `current` link (None before the first build): one system call,
    so a server can tell on every request whether a new build was published, and
    resolve the path only when it was (resolving costs about 0.1 ms)."""
    try:
        return os.readlink(index_dir / CURRENT_LINK)
    except OSError:
        return None


def new_build_dir(index_dir: Path, build_id: str) -> Path:
    """Create and return an empty private directory to write a build into."""
    builds = index_dir / BUILDS_DIR
    builds.mkdir(parents=True, exist_ok=True)
    path = builds / f"{TMP_PREFIX}{build_id}"
    path.mkdir()
    return path


def publish_build(index_dir: Path, tmp_dir: Path, build_id: str) -> Path:
    """Move a finished build into place and point `current` at it in one atomic step."""
    final = index_dir / BUILDS_DIR / build_id
    os.rename(tmp_dir, final)
    _fsync_dir(final.parent)
    point_current(index_dir, build_id)
    return final


def point_current(index_dir: Path, build_id: str) -> None:
    """Swap the `current` link to builds/<build_id> atomically (symlink + rename)."""
    tmp_link = index_dir / f".{CURRENT_LINK}.{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        tmp_link.unlink()
    os.symlink(os.path.join(BUILDS_DIR, build_id), tmp_link)
    os.replace(tmp_link, index_dir / CURRENT_LINK)
    _fsync_dir(index_dir)


def rollback_build(index_dir: Path) -> tuple[Path, Path]:
    """Point `current` at the newest complete build older than it; returns (from, to).

    Raises NoBuildToRollBackTo when no older build passes its manifest check.
    """
    current, candidate = _current_and_previous(index_dir)
    point_current(index_dir, candidate.name)
    return current, candidate.resolve()


def previous_build(index_dir: Path) -> Path:
    """The newest complete build older than the current one (what `rollback_build`
    would serve), checked against its manifest. Raises NoBuildToRollBackTo."""
    return _current_and_previous(index_dir)[1]


def _current_and_previous(index_dir: Path) -> tuple[Path, Path]:
    from .manifest import verify_build

    current = current_build_dir(index_dir)
    if current is None:
        raise NoBuildToRollBackTo(f"no build is current in {index_dir}")
    older = sorted(
        (
            p
            for p in (index_dir / BUILDS_DIR).glob("*")
            if p.is_dir() and not p.name.startswith(TMP_PREFIX) and p.name < current.name
        ),
        key=lambda p: p.name,
        reverse=True,
    )
    for candidate in older:
        try:
            verify_build(candidate)
        except BuildCorrupt:
            continue
        return current, candidate
    raise NoBuildToRollBackTo(f"no complete build older than {current.name} in {index_dir}")


def remove_abandoned(index_dir: Path) -> list[Path]:
    """Delete half-written builds left by a killed reindex (call only under the lock)."""
    builds = index_dir / BUILDS_DIR
    removed = [p for p in builds.glob(f"{TMP_PREFIX}*") if p.is_dir()] if builds.is_dir() else []
    for path in removed:
        shutil.rmtree(path, ignore_errors=True)
    return removed


def prune_builds(index_dir: Path, keep: int, grace_seconds: float) -> list[Path]:
    """Delete old builds beyond the newest `keep`, once superseded for `grace_seconds`.

    A build is superseded when the next one was published; readers move to the new
    build on their next request, so after the grace period nobody still reads it.
    """
    current = current_build_dir(index_dir)
    builds = sorted(
        (
            p.resolve()
            for p in (index_dir / BUILDS_DIR).glob("*")
            if p.is_dir() and not p.name.startswith(TMP_PREFIX)
        ),
        key=lambda p: p.name,
    )
    removed = []
    now = time.time()
    for older, newer in zip(builds[:-keep] if keep else builds, builds[1:], strict=False):
        if older == current or now - newer.stat().st_mtime < grace_seconds:
            continue
        shutil.rmtree(older, ignore_errors=True)
        removed.append(older)
    return removed


@dataclass
class LockInfo:
    """What taking the writer lock found: the pid of a holder that died holding it."""

    stale_pid: int | None = None


@contextlib.contextmanager
def writer_lock(index_dir: Path, wait_seconds: float = 0.0) -> Iterator[LockInfo]:
    """Hold the single-writer lock, waiting up to `wait_seconds`.

    flock is released by the kernel when its holder dies, so a killed reindex never
    blocks the next one; its pid stays in the lock file (a clean exit clears it), so
    the next writer can say it recovered the lock. Raises ReindexLocked if the lock
    stays taken.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    path = index_dir / LOCK_FILE
    handle = path.open("a+")
    deadline = time.monotonic() + max(0.0, wait_seconds)
    try:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "unknown"
                    raise ReindexLocked(
                        f"another reindex (pid {holder}) holds {path}; try again later "
                        "or pass --wait SECONDS"
                    ) from None
                time.sleep(0.1)
        handle.seek(0)
        previous = handle.read().strip()
        info = LockInfo(int(previous) if previous.isdigit() else None)
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        # Processes forked for the build (parsing, related lists, Whoosh's writers) must
        # not keep the lock, nor outlive a killed reindex: see _in_forked_child.
        multiprocessing.util.register_after_fork(handle, _in_forked_child)
        yield info
        handle.seek(0)
        handle.truncate()  # a clean exit: nothing to recover next time
    finally:
        handle.close()


def _in_forked_child(handle: IO[str]) -> None:
    """Close a forked child's copy of the lock file (the parent's lock is unaffected),
    and have the kernel kill the child when the reindex dies.

    A pool worker whose reindex was killed waits on its task pipe forever: it holds a
    write end of that pipe itself, so it never reads an end of file (seen after the
    killed-reindex test: an orphan still alive minutes later, holding deleted files).
    """
    handle.close()
    parent = multiprocessing.parent_process()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: no such request
        return
    if parent is not None and os.getppid() != parent.pid:  # it died before the request
        os._exit(1)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
