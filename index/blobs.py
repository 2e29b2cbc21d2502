"""Per-post values in one file, read by catalog row.

Three stores use it: the catalog records (`posts`), the body texts that snippets are
cut from and phrases are checked against (`texts`), and the sanitised HTML of post
pages (`pages`). At 57k posts the body texts alone are a few hundred megabytes, so a
worker reads rows from the file (pread) instead of loading it and each request reads
only the posts it shows; the kernel's page cache shares them between workers. Each
store is `<name>.jsonl` (one JSON value per line, so the artifacts stay JSON and `.npz`
like every other) and `<name>.npz` (each row's byte offset).

An incremental build does not rewrite the store: it hard-links the previous build's
`<name>.jsonl` (builds never change once written, so two builds can share the file)
and writes only the rows changed since that file was written to `<name>.delta.jsonl`;
its `<name>.npz` then says, per row, which of the two files holds it and where. The
delta holds at most the posts changed since the last full build, which
FULL_REBUILD_SHARE in build.py bounds; a full build writes one file again. At 57k
posts this saves copying about 1 GB for every edited post.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson

CATALOG = "posts"
TEXTS = "texts"
PAGES = "pages"
BASE_SUFFIX = ".jsonl"
DELTA_SUFFIX = ".delta.jsonl"


def write_blobs(out_dir: Path, name: str, items: Iterable[Any]) -> None:
    """Write the JSON value (or a line copied from another store's `raw`) of every row."""
    with BlobWriter(out_dir, name) as writer:
        for item in items:
            writer.add(item)


class BlobWriter:
    """Appends rows to a new store; the offsets are written when it is closed."""

    def __init__(self, out_dir: Path, name: str) -> None:
        self._out_dir, self._name = out_dir, name
        self._file = open(out_dir / f"{name}.jsonl", "wb")  # noqa: SIM115 - closed in close()
        self._offsets = [0]

    def add(self, item: Any) -> None:
        """Append a JSON value, or a line copied as is from another store's `raw`."""
        data = _line(item)
        self._file.write(data)
        self._offsets.append(self._offsets[-1] + len(data))

    def close(self) -> None:
        self._file.close()
        offsets = np.array(self._offsets, dtype=np.int64)
        np.savez(self._out_dir / f"{self._name}.npz", offsets=offsets)

    def __enter__(self) -> BlobWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _line(item: Any) -> bytes:
    """A store line: a JSON value encoded, or a line copied as is from a store's `raw`."""
    if isinstance(item, bytes):
        return item
    return orjson.dumps(item) + b"\n"  # 5-10x the standard library's speed


@dataclass(frozen=True)
class Carried:
    """A row taken over unchanged from the previous build's store (see `write_layered`)."""

    row: int


def write_layered(out_dir: Path, name: str, previous_dir: Path, items: Iterable[Any]) -> None:
    """Write a store whose rows are `Carried` rows of `previous_dir`'s store or new values.

    The previous base file is hard-linked (copied where the file system cannot link);
    new values, and carried rows that sat in the previous delta, go to a new delta file.
    """
    previous = BlobStore(previous_dir, name)
    try:
        _link_or_copy(previous_dir / f"{name}{BASE_SUFFIX}", out_dir / f"{name}{BASE_SUFFIX}")
        in_delta: list[bool] = []
        starts: list[int] = []
        ends: list[int] = []
        position = 0
        with open(out_dir / f"{name}{DELTA_SUFFIX}", "wb") as delta:
            for item in items:
                if isinstance(item, Carried):
                    was_delta, start, end = previous.location(item.row)
                    if not was_delta:
                        in_delta.append(False)
                        starts.append(start)
                        ends.append(end)
                        continue
                    data = previous.raw(item.row)
                else:
                    data = _line(item)
                delta.write(data)
                in_delta.append(True)
                starts.append(position)
                position += len(data)
                ends.append(position)
    finally:
        previous.close()
    np.savez(
        out_dir / f"{name}.npz",
        in_delta=np.array(in_delta, dtype=bool),
        start=np.array(starts, dtype=np.int64),
        end=np.array(ends, dtype=np.int64),
    )


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


class BlobStore:
    """The values of one store, by row; safe to share between threads.

    Rows are read with `pread`, not through a memory map: the kernel's page cache
    still serves (and shares) them, but a worker that has shown many posts does not
    carry every page it touched in its resident memory.
    """

    def __init__(self, build_dir: Path, name: str) -> None:
        with np.load(build_dir / f"{name}.npz", allow_pickle=False) as data:
            self._in_delta: np.ndarray | None = None  # one file: every row in the base
            if "offsets" in data:  # one file, rows back to back
                offsets = data["offsets"]
                self._starts, self._ends = offsets[:-1], offsets[1:]
            else:  # layered: a shared base file and this build's delta
                self._in_delta = data["in_delta"]
                self._starts, self._ends = data["start"], data["end"]
        self._fds: list[int] = [os.open(build_dir / f"{name}{BASE_SUFFIX}", os.O_RDONLY)]
        if self._in_delta is not None:
            self._fds.append(os.open(build_dir / f"{name}{DELTA_SUFFIX}", os.O_RDONLY))

    def __len__(self) -> int:
        return len(self._starts)

    def location(self, row: int) -> tuple[bool, int, int]:
        """(in the delta file, start, end) of a row's line."""
        in_delta = self._in_delta is not None and bool(self._in_delta[row])
        return in_delta, int(self._starts[row]), int(self._ends[row])

    def raw(self, row: int) -> bytes:
        """The stored line of a row (IndexError past the end)."""
        if not 0 <= row < len(self):
            raise IndexError(row)
        if not self._fds:
            raise ValueError("the store is closed")
        in_delta, start, end = self.location(row)
        return os.pread(self._fds[in_delta], end - start, start) if end > start else b""

    def get(self, row: int) -> Any:
        return orjson.loads(self.raw(row))

    def close(self) -> None:
        fds, self._fds = self._fds, []
        for fd in fds:
            os.close(fd)
