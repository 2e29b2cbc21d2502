"""Memory-mapped `.npz` members: the same arrays as numpy reads, without the copy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.mapped import mapped_arrays


def test_stored_members_are_mapped_and_equal_to_what_numpy_reads(tmp_path: Path) -> None:
    path = tmp_path / "a.npz"
    wide = np.arange(100_000, dtype=np.float32).reshape(1000, 100)
    np.savez(path, wide=wide, small=np.array([3, 1, 2], dtype=np.int64), empty=np.zeros(0))
    arrays = mapped_arrays(path)
    assert isinstance(arrays["wide"], np.memmap) and not arrays["wide"].flags.writeable
    with np.load(path) as expected:
        for name in expected.files:
            assert (
                np.array_equal(arrays[name], expected[name])
                and arrays[name].dtype == expected[name].dtype
            )


def test_compressed_members_are_read_and_objects_refused(tmp_path: Path) -> None:
    packed = tmp_path / "packed.npz"
    np.savez_compressed(packed, values=np.arange(10))
    values = mapped_arrays(packed)["values"]
    assert not isinstance(values, np.memmap) and values.tolist() == list(range(10))
    objects = tmp_path / "objects.npz"
    np.savez(objects, bad=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="Python objects"):
        mapped_arrays(objects)
