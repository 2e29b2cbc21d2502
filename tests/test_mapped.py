"""Memory-mapped `.npz` members: the same arrays as numpy reads, without the copy."""

from __future__ import annotations

import zipfile
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


@pytest.mark.parametrize("save", [np.savez, np.savez_compressed])
def test_stored_rows_read_with_pread_equal_the_matrix_rows(tmp_path: Path, save) -> None:
    """The ranking's postings are read per row from the file (stored or compressed)."""
    import scipy.sparse as sp

    from index.lexical import _csr_arrays
    from index.mapped import StoredRows

    matrix = sp.random(300, 2000, density=0.01, random_state=3, dtype=np.float32).tocsr()
    keep = np.ones(300, dtype=np.float32)
    keep[5] = 0  # an empty row
    matrix = (sp.diags(keep) @ matrix).tocsr()
    matrix.eliminate_zeros()
    path = tmp_path / "m.npz"
    save(path, **_csr_arrays("weights", matrix))
    rows = StoredRows(path, "weights")
    try:
        assert rows.shape == matrix.shape
        for row in range(matrix.shape[0]):
            ids, values = rows.row(row)
            expected = matrix[row]
            assert ids.tolist() == expected.indices.tolist()
            assert values.tolist() == expected.data.tolist()
        assert rows.row(5)[0].size == 0
    finally:
        rows.close()


def test_verified_maps_refuse_a_member_whose_bytes_changed(tmp_path: Path) -> None:
    """Count tables are mapped for incremental builds, with zipfile's CRC-32 check kept."""
    path = tmp_path / "counts.npz"
    np.savez(path, first=np.arange(1000, dtype=np.int32), second=np.ones(1000))
    assert mapped_arrays(path, verify=True)["first"].tolist() == list(range(1000))
    raw = bytearray(path.read_bytes())
    at = raw.index(np.int32(500).tobytes() + np.int32(501).tobytes())
    raw[at] ^= 0xFF  # one bit pattern of one value, the archive's directory untouched
    path.write_bytes(bytes(raw))
    with pytest.raises(zipfile.BadZipFile, match="first"):
        mapped_arrays(path, verify=True)
    assert mapped_arrays(path)["first"][500] != 500  # unchecked maps read what is there
    with pytest.raises(zipfile.BadZipFile), np.load(path) as data:
        data["first"]  # what numpy's own reading says of the same file
