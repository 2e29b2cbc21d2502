"""Count tables: made from counted rows, and rows of several stacked into one table.

A full build counts words in chunks (one per parse task) and an incremental build
joins the old table with the changed posts; both then need one matrix whose columns
are the words some remaining row uses. At 57k posts that matrix holds 36 million
counts (about 290 MB), so it is written straight into arrays of its final size: going
through COO blocks, a stacked copy and a column selection held three copies at once
(0.8 GB above the result).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

# (matrices over one vocabulary, that vocabulary (sorted), the rows to take, in order)
Part = tuple[Sequence[sp.csr_matrix], Sequence[str], Sequence[int]]
# One table's counted rows: (row pointers, each row's keys one after another, counts)
Counted = tuple[list[int], list[str], list[int]]


def count_tables(rows: int, tables: Sequence[Counted]) -> tuple[list[sp.csr_matrix], list[str]]:
    """A matrix of counts per table, all over the sorted vocabulary of their keys, with
    each row's columns in ascending order.

    The keys are numbered all at once, in C (`set`, `sorted`, `map`): numbering them one
    Python step per (post, word) pair was a quarter of counting.
    """
    vocabulary = sorted(set().union(*(keys for _, keys, _ in tables)))
    column = dict(zip(vocabulary, range(len(vocabulary)), strict=True))
    matrices = []
    for indptr, keys, counts in tables:
        columns = np.fromiter(map(column.__getitem__, keys), np.int32, count=len(keys))
        matrix = sp.csr_matrix(
            (np.array(counts, np.int32), columns, np.array(indptr, np.int64)),
            shape=(rows, len(vocabulary)),
        )
        matrix.sort_indices()
        matrices.append(matrix)
    return matrices, vocabulary


def stack_rows(parts: Sequence[Part], tables: int) -> tuple[list[sp.csr_matrix], list[str]]:
    """The chosen rows of every part, in order, for each of the `tables` matrices of a
    part, over the sorted vocabulary of the words those rows use.

    Each part's vocabulary must be sorted with its columns in that order (as counting
    and this function produce), so column order within a row is kept; the result's
    rows have their columns in ascending order.
    """
    vocabulary = sorted({word for _, words, _ in parts for word in words})
    column_of = {word: i for i, word in enumerate(vocabulary)}
    remaps = [_remap(words, column_of) for _, words, _ in parts]
    # Each part's chosen rows, taken once (no copy when a part gives all its rows).
    taken = [[_rows(matrices[k], rows) for k in range(tables)] for matrices, _, rows in parts]
    used = np.zeros(len(vocabulary), dtype=bool)
    for part_taken, remap in zip(taken, remaps, strict=True):
        for matrix in part_taken:
            used[_columns(matrix.indices, remap)] = True
    all_used = bool(used.all())
    new_column = None if all_used else np.cumsum(used) - 1
    total_rows = sum(len(rows) for _, _, rows in parts)
    stacked = []
    for k in range(tables):
        dtype = parts[0][0][k].dtype if parts else np.int32
        size = sum(part_taken[k].nnz for part_taken in taken)
        indptr = np.zeros(total_rows + 1, dtype=np.int64)
        indices = np.empty(size, dtype=np.int32)
        data = np.empty(size, dtype=dtype)
        row = at = 0
        for part_taken, remap in zip(taken, remaps, strict=True):
            matrix = part_taken[k]
            columns = _columns(matrix.indices, remap)
            indices[at : at + matrix.nnz] = columns if new_column is None else new_column[columns]
            data[at : at + matrix.nnz] = matrix.data
            rows_here = matrix.shape[0]
            indptr[row + 1 : row + rows_here + 1] = at + matrix.indptr[1:]
            row, at = row + rows_here, at + matrix.nnz
        shape = (total_rows, int(used.sum()))
        matrix = sp.csr_matrix((data, indices, indptr), shape=shape, copy=False)
        if not matrix.has_sorted_indices:  # a part not in canonical order: sort in place
            matrix.sort_indices()
        stacked.append(matrix)
    return stacked, vocabulary if all_used else [vocabulary[i] for i in np.flatnonzero(used)]


def _remap(words: Sequence[str], column_of: dict[str, int]) -> np.ndarray | None:
    """Each word's column in the joined vocabulary; None when that is its own position
    (an incremental build's old table, whose vocabulary usually covers the new posts)."""
    remap = np.array([column_of[w] for w in words], dtype=np.int64)
    return None if np.array_equal(remap, np.arange(len(remap))) else remap


def _columns(indices: np.ndarray, remap: np.ndarray | None) -> np.ndarray:
    return indices if remap is None else remap[indices]


def _rows(matrix: sp.csr_matrix, rows: Sequence[int]) -> sp.csr_matrix:
    """The rows of a CSR matrix, without a copy when they are all of them in order."""
    if len(rows) == matrix.shape[0] and np.array_equal(rows, np.arange(len(rows))):
        return matrix
    return matrix[np.asarray(rows, dtype=np.int64)]
