"""Count tables: made from counted rows, and rows of several stacked into one table.

A full build counts words in chunks (one per parse task) and an incremental build
joins the old table with the changed posts; both then need one matrix whose columns
are the words some remaining row uses. At 57k posts that matrix holds 36 million
counts (about 290 MB), so it is written straight into arrays of its final size: going
through COO blocks, a stacked copy and a column selection held three copies at once
(0.8 GB above the result).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import scipy.sparse as sp

# (matrices over one vocabulary, that vocabulary (sorted))
Part = tuple[Sequence[sp.csr_matrix], Sequence[str]]
# One table's counted rows: (row pointers, each row's keys one after another, counts)
Counted = tuple[list[int], list[str], list[int]]


def add_row(table: Counted, counted: Mapping[str, int]) -> None:
    """Append one row's counts (a post's, say) to a table being counted."""
    indptr, keys, counts = table
    keys.extend(counted)
    counts.extend(counted.values())
    indptr.append(len(keys))


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


def kept_row_pointers(kept: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    """The row pointers (int64) of a CSR matrix with row pointers `indptr` once only
    the entries where `kept` is True remain: each row's kept entries are summed on
    their own (`np.add.reduceat`), then the rows. A running count over every entry gave
    the same, but numpy's cumulative sum of a bool array costs about 20 ns an entry
    (0.75 s over the 36 million word counts of 57k posts, against 0.05 s)."""
    lengths = np.diff(indptr)
    per_row = np.zeros(lengths.size, dtype=np.int64)
    nonempty = np.flatnonzero(lengths)
    if nonempty.size:
        # A non-empty row's entries run up to the next non-empty row's first one (the
        # empty rows between start where it ends), and the last up to the last entry.
        entries = kept[: int(indptr[-1])]
        per_row[nonempty] = np.add.reduceat(entries, indptr[nonempty], dtype=np.int64)
    pointers = np.zeros(lengths.size + 1, dtype=np.int64)
    np.cumsum(per_row, out=pointers[1:])
    return pointers


def stack_rows(
    parts: Sequence[Part], order: Sequence[tuple[int, int]], tables: int
) -> tuple[list[sp.csr_matrix], list[str]]:
    """For each of the `tables` matrices of a part, the rows named by `order` ((part,
    row) pairs, one per row of the result), over the sorted vocabulary of the words
    those rows use.

    Each part's vocabulary must be sorted with its columns in that order (as counting
    and this function produce), so column order within a row is kept; the result's
    rows have their columns in ascending order. Rows are copied in runs of consecutive
    rows of one part: an incremental build's order is the old table's rows with a few
    taken out or put in, so its 36 million counts at 57k posts move in a few slices
    instead of being gathered row by row and then permuted (two full copies).
    """
    # Every part's words joined in C (a full build at 57k posts joins over 200 chunks
    # of some 60,000 words each: a set comprehension took a third longer).
    vocabulary = sorted(set().union(*(words for _, words in parts)))
    column_of = dict(zip(vocabulary, range(len(vocabulary)), strict=True))
    runs = _runs(order)
    # The columns each part's chosen rows use, in that part's own numbering.
    used_here = [np.zeros(len(words), dtype=bool) for _, words in parts]
    for part, first, stop in runs:
        for matrix in parts[part][0][:tables]:
            used_here[part][matrix.indices[matrix.indptr[first] : matrix.indptr[stop]]] = True
    remaps = [_remap(words, column_of) for _, words in parts]
    used = np.zeros(len(vocabulary), dtype=bool)
    for here, remap in zip(used_here, remaps, strict=True):
        used[np.flatnonzero(here) if remap is None else remap[here]] = True
    new_column = np.cumsum(used) - 1  # a used column's place among the used ones
    # Each part's column -> result column, or None where a part keeps its numbering.
    targets = [
        _target(remap, new_column, len(words))
        for (_, words), remap in zip(parts, remaps, strict=True)
    ]
    total_rows = sum(stop - first for _, first, stop in runs)
    stacked = []
    for k in range(tables):
        dtype = parts[0][0][k].dtype if parts else np.int32
        size = sum(
            int(parts[p][0][k].indptr[stop] - parts[p][0][k].indptr[first])
            for p, first, stop in runs
        )
        indptr = np.zeros(total_rows + 1, dtype=np.int64)
        indices = np.empty(size, dtype=np.int32)
        data = np.empty(size, dtype=dtype)
        row = at = 0
        for part, first, stop in runs:
            matrix, target = parts[part][0][k], targets[part]
            start, end = int(matrix.indptr[first]), int(matrix.indptr[stop])
            columns = matrix.indices[start:end]
            indices[at : at + end - start] = columns if target is None else target[columns]
            data[at : at + end - start] = matrix.data[start:end]
            rows_here = stop - first
            indptr[row + 1 : row + rows_here + 1] = matrix.indptr[first + 1 : stop + 1] - start + at
            row, at = row + rows_here, at + end - start
        shape = (total_rows, int(used.sum()))
        matrix = sp.csr_matrix((data, indices, indptr), shape=shape, copy=False)
        if not matrix.has_sorted_indices:  # a part not in canonical order: sort in place
            matrix.sort_indices()
        stacked.append(matrix)
    kept = vocabulary if used.all() else [vocabulary[i] for i in np.flatnonzero(used)]
    return stacked, kept


def _runs(order: Sequence[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """`order` as (part, first row, stop row) runs of consecutive rows of one part."""
    runs: list[tuple[int, int, int]] = []
    for part, row in order:
        if runs and runs[-1][0] == part and runs[-1][2] == row:
            runs[-1] = (part, runs[-1][1], row + 1)
        else:
            runs.append((part, row, row + 1))
    return runs


def _remap(words: Sequence[str], column_of: dict[str, int]) -> np.ndarray | None:
    """Each word's column in the joined vocabulary; None when that is its own position
    (an incremental build's old table, whose vocabulary usually covers the new posts)."""
    remap = np.array([column_of[w] for w in words], dtype=np.int64)
    return None if np.array_equal(remap, np.arange(len(remap))) else remap


def _target(remap: np.ndarray | None, new_column: np.ndarray, size: int) -> np.ndarray | None:
    """A part's column -> the result's column (only used columns are ever looked up);
    None when every column keeps its number."""
    target = new_column[:size] if remap is None else new_column[remap]
    if target.size == size and np.array_equal(target, np.arange(size)):
        return None
    return target.astype(np.int32)
