"""Open the arrays of an uncompressed `.npz` as memory maps instead of reading them.

Each worker used to read the whole ranking matrix into its own memory (about 4 KB per
post: 240 MB at 57k posts, in every worker). Builds write it uncompressed, so each
`.npy` member sits in the file as is: mapped, the kernel reads only the postings
queries touch and shares them between workers. Members that are compressed, or that
hold Python objects, are never mapped (and objects are never loaded: no pickle).
"""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

_LOCAL_HEADER = 30  # bytes of a zip local file header before the name and extra field


def mapped_arrays(path: Path) -> dict[str, np.ndarray]:
    """Every array of the `.npz` at `path`, by name; mapped read-only when stored as is."""
    arrays: dict[str, np.ndarray] = {}
    with zipfile.ZipFile(path) as archive, open(path, "rb") as handle:
        for info in archive.infolist():
            name = info.filename.removesuffix(".npy")
            if info.compress_type != zipfile.ZIP_STORED:
                with archive.open(info) as member:
                    arrays[name] = npy_format.read_array(member, allow_pickle=False)
                continue
            handle.seek(info.header_offset)
            header = handle.read(_LOCAL_HEADER)
            name_length, extra_length = struct.unpack("<HH", header[26:30])
            handle.seek(info.header_offset + _LOCAL_HEADER + name_length + extra_length)
            version = npy_format.read_magic(handle)
            if version == (1, 0):
                shape, fortran, dtype = npy_format.read_array_header_1_0(handle)
            else:
                shape, fortran, dtype = npy_format.read_array_header_2_0(handle)
            if dtype.hasobject:
                raise ValueError(f"{path.name}:{name} holds Python objects; refusing to load")
            if int(np.prod(shape)) == 0:
                arrays[name] = np.empty(shape, dtype=dtype)
                continue
            arrays[name] = np.memmap(
                path,
                dtype=dtype,
                mode="r",
                offset=handle.tell(),
                shape=shape,
                order="F" if fortran else "C",
            )
    return arrays
