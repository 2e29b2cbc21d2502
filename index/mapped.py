"""Open the arrays of an uncompressed `.npz` as memory maps instead of reading them.

Each worker used to read the whole ranking matrix into its own memory (about 4 KB per
post: 240 MB at 57k posts, in every worker). Builds write it uncompressed, so each
`.npy` member sits in the file as is: mapped, the kernel reads only the postings
queries touch and shares them between workers. Members that are compressed, or that
hold Python objects, are never mapped (and objects are never loaded: no pickle).
"""

from __future__ import annotations

import mmap
import os
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

_LOCAL_HEADER = 30  # bytes of a zip local file header before the name and extra field


def mapped_arrays(path: Path, verify: bool = False) -> dict[str, np.ndarray]:
    """Every array of the `.npz` at `path`, by name; mapped read-only when stored as is.

    With `verify`, each stored member is first checked against the CRC-32 the archive
    recorded for it, as reading it through zipfile does (raising BadZipFile on a
    mismatch), but over the map in C: reading a 290 MB count table that way took
    0.8 s, checking its map takes 0.13 s.
    """
    members = npz_members(path)
    if verify:
        _check_crcs(path, members)
    arrays: dict[str, np.ndarray] = {}
    for name, member in members.items():
        if isinstance(member, np.ndarray):
            arrays[name] = member
        elif member.size == 0:
            arrays[name] = np.empty(member.shape, dtype=member.dtype)
        else:
            arrays[name] = np.memmap(
                path,
                dtype=member.dtype,
                mode="r",
                offset=member.offset,
                shape=member.shape,
                order="F" if member.fortran else "C",
            )
    return arrays


@dataclass(frozen=True)
class StoredArray:
    """Where an uncompressed `.npy` member's values start in its `.npz`, and their layout."""

    offset: int
    dtype: np.dtype
    shape: tuple[int, ...]
    fortran: bool
    stored: tuple[int, int, int]  # the whole member in the archive: (start, length, CRC-32)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))


def npz_members(path: Path) -> dict[str, StoredArray | np.ndarray]:
    """Each member of an `.npz`: its position when stored as is, else the array read
    (compressed members cannot be read in place). Raises ValueError for a member that
    holds Python objects: those are never loaded (no pickle)."""
    members: dict[str, StoredArray | np.ndarray] = {}
    with zipfile.ZipFile(path) as archive, open(path, "rb") as handle:
        for info in archive.infolist():
            name = info.filename.removesuffix(".npy")
            if info.compress_type != zipfile.ZIP_STORED:
                with archive.open(info) as member:
                    members[name] = npy_format.read_array(member, allow_pickle=False)
                continue
            handle.seek(info.header_offset)
            header = handle.read(_LOCAL_HEADER)
            name_length, extra_length = struct.unpack("<HH", header[26:30])
            start = info.header_offset + _LOCAL_HEADER + name_length + extra_length
            handle.seek(start)
            version = npy_format.read_magic(handle)
            if version == (1, 0):
                shape, fortran, dtype = npy_format.read_array_header_1_0(handle)
            else:
                shape, fortran, dtype = npy_format.read_array_header_2_0(handle)
            if dtype.hasobject:
                raise ValueError(f"{path.name}:{name} holds Python objects; refusing to load")
            stored = (start, info.file_size, info.CRC)
            members[name] = StoredArray(handle.tell(), dtype, tuple(shape), fortran, stored)
    return members


def _check_crcs(path: Path, members: dict[str, StoredArray | np.ndarray]) -> None:
    """Raise BadZipFile when a stored member's bytes do not match its CRC-32."""
    with open(path, "rb") as handle:  # not empty: npz_members has read its directory
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as whole:
            view = memoryview(whole)
            try:
                for name, member in members.items():
                    if isinstance(member, np.ndarray):  # compressed: zipfile checked it
                        continue
                    start, length, crc = member.stored
                    if zlib.crc32(view[start : start + length]) != crc:
                        raise zipfile.BadZipFile(f"Bad CRC-32 for {name}.npy in {path.name}")
            finally:
                view.release()


class StoredRows:
    """Rows of a CSR matrix saved in an uncompressed `.npz` (as NAME_data,
    NAME_indices, NAME_indptr, NAME_shape), read with `pread` when asked.

    Mapped, every posting a worker's queries ever touched stayed in that worker's
    resident memory: at 57k posts, nearly all 240 MB of the ranking matrix after a few
    thousand different queries, in every worker. Read this way, the postings live once
    in the kernel's page cache, shared by all workers, and a worker holds only the row
    pointers. Safe to share between threads (pread has no file position).
    """

    def __init__(
        self, path: Path, name: str, members: dict[str, StoredArray | np.ndarray] | None = None
    ) -> None:
        """`members`: the archive's `npz_members`, when the caller has read them."""
        members = members if members is not None else npz_members(path)
        self.shape = tuple(int(x) for x in read_member(path, members[f"{name}_shape"]))
        self.indptr = read_member(path, members[f"{name}_indptr"]).astype(np.int64)
        self._indices = members[f"{name}_indices"]
        self._data = members[f"{name}_data"]
        self._fd = os.open(path, os.O_RDONLY)

    def row(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """(column numbers, values) of one row."""
        start, end = int(self.indptr[row]), int(self.indptr[row + 1])
        return self._read(self._indices, start, end), self._read(self._data, start, end)

    def length(self, row: int) -> int:
        """How many entries a row holds, from the row pointers (nothing read)."""
        return int(self.indptr[row + 1] - self.indptr[row])

    def columns(self, row: int) -> np.ndarray:
        """The column numbers of one row, without its values (half the reading)."""
        return self._read(self._indices, int(self.indptr[row]), int(self.indptr[row + 1]))

    def values_at(self, row: int, places: np.ndarray) -> np.ndarray:
        """The values at `places` (positions within the row): one read from the first
        to the last of them, not the whole row."""
        if places.size == 0:
            return self._read(self._data, 0, 0)
        start = int(self.indptr[row])
        first, last = int(places.min()), int(places.max())
        return self._read(self._data, start + first, start + last + 1)[places - first]

    def _read(self, member: StoredArray | np.ndarray, start: int, end: int) -> np.ndarray:
        if isinstance(member, np.ndarray):
            return member[start:end]
        width = member.dtype.itemsize
        raw = os.pread(self._fd, (end - start) * width, member.offset + start * width)
        return np.frombuffer(raw, dtype=member.dtype)

    def close(self) -> None:
        os.close(self._fd)


def read_member(path: Path, member: StoredArray | np.ndarray) -> np.ndarray:
    """A (small) member of the `.npz` at `path` read into memory."""
    if isinstance(member, np.ndarray):
        return member
    with open(path, "rb") as handle:
        handle.seek(member.offset)
        raw = handle.read(member.size * member.dtype.itemsize)
    order = "F" if member.fortran else "C"
    return np.frombuffer(raw, dtype=member.dtype).reshape(member.shape, order=order).copy()
