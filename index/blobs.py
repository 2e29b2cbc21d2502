"""Per-post values in one file, read by catalog row.

Three stores use it: the catalog records (`posts`), the body texts that snippets are
cut from and phrases are checked against (`texts`), and the sanitised HTML of post
pages (`pages`). At 57k posts the body texts alone are a few hundred megabytes, so a
worker reads rows from the file (pread) instead of loading it and each request reads
only the posts it shows; the kernel's page cache shares them between workers. Each
store is `<name>.jsonl` (one JSON value per line, so the artifacts stay JSON and `.npz`
like every other) and `<name>.npz` (each row's byte offset). An incremental build
copies the lines of unchanged posts as they are.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import orjson

CATALOG = "posts"
TEXTS = "texts"
PAGES = "pages"


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
        if isinstance(item, bytes):
            data = item
        else:
            data = orjson.dumps(item) + b"\n"  # 5-10x the standard library's speed
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


class BlobStore:
    """The values of one store, by row; safe to share between threads.

    Rows are read with `pread`, not through a memory map: the kernel's page cache
    still serves (and shares) them, but a worker that has shown many posts does not
    carry every page it touched in its resident memory.
    """

    def __init__(self, build_dir: Path, name: str) -> None:
        with np.load(build_dir / f"{name}.npz", allow_pickle=False) as data:
            self._offsets = data["offsets"]
        self._fd: int | None = os.open(build_dir / f"{name}.jsonl", os.O_RDONLY)

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def raw(self, row: int) -> bytes:
        """The stored line of a row (IndexError past the end)."""
        if not 0 <= row < len(self):
            raise IndexError(row)
        if self._fd is None:
            raise ValueError("the store is closed")
        start, end = int(self._offsets[row]), int(self._offsets[row + 1])
        return os.pread(self._fd, end - start, start) if end > start else b""

    def get(self, row: int) -> Any:
        return orjson.loads(self.raw(row))

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
