"""Near-duplicate posts: pairs whose TF-IDF cosine reaches a threshold.

Content sites repeat themselves (a post republished under a new slug, a press release
and its blog version, a translation that kept the code). The related lists never show
two such posts together, and `postsearch duplicates` lists the pairs so an owner can
merge or redirect them. At 0.85 the pairs found on the real blogs in ../shared are all
the same text (a few words changed) and none is merely on the same topic.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache

import numpy as np
import scipy.sparse as sp
from sparse_dot_topn import sp_matmul_topn

from .tfidf import l2_normalise, strongest_terms

# Threads of the top-n product (it runs before a build forks its related-list workers,
# so it has the machine to itself: 14.5 s -> 7.7 s at 57k posts on 2 cores).
_THREADS = min(4, os.cpu_count() or 1)

DEFAULT_THRESHOLD = 0.85
# Outside `postsearch duplicates`, pairs are first scouted over each post's strongest
# terms; a near-copy's cosine over them stays well above CANDIDATE_SHARE × threshold.
DUPLICATE_TERMS = 64
CANDIDATE_SHARE = 0.7
# Pairs a post keeps from one product before it is compared with every post instead.
_PAIRS_PER_ROW = 256
# From this many posts, pairs are found by a compiled loop that computes each pair once
# (a top-n product computes both halves): 5.2-6.6 -> 1.3 s for a build's scouting at
# 57k posts on 2 cores, plus about a second to load the loop: below, that costs more.
COMPILED_PAIRS_FROM = 5_000


@dataclass(frozen=True)
class DuplicatePair:
    """Two rows of the build (first < second) and their TF-IDF cosine."""

    first: int
    second: int
    similarity: float


def find_near_duplicates(
    text_matrix: sp.csr_matrix,
    threshold: float = DEFAULT_THRESHOLD,
    exhaustive: bool = True,
) -> list[DuplicatePair]:
    """Every pair of posts with cosine ≥ `threshold`, most similar first, then by rows.

    `text_matrix` holds L2-normalised rows (the build's `tfidf.npz`); empty rows never
    pair up. Exhaustive, every pair is compared. Otherwise (builds) only pairs whose
    DUPLICATE_TERMS strongest terms already agree (cosine ≥ CANDIDATE_SHARE × threshold
    over those terms) are compared in full: near-copies share their strongest terms.
    Raises ValueError for a threshold outside (0, 1].
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    matrix = sp.csr_matrix(text_matrix, dtype=np.float32)
    # float32 cosines of identical rows can land a hair under 1.0.
    cut = threshold - 1e-6
    if exhaustive:
        rows, cols, similarity = _pairs_above(matrix, cut)
    else:
        scouting = l2_normalise(strongest_terms(matrix, DUPLICATE_TERMS))
        rows, cols, _ = _pairs_above(scouting, CANDIDATE_SHARE * threshold)
        # The full cosine of each scouted pair.
        similarity = np.asarray(matrix[rows].multiply(matrix[cols]).sum(axis=1)).ravel()
    pairs = [
        DuplicatePair(int(row), int(col), float(value))
        for row, col, value in zip(rows, cols, similarity, strict=True)
        if value >= cut
    ]
    pairs.sort(key=lambda p: (-round(p.similarity, 6), p.first, p.second))
    return pairs


def _pairs_above(matrix: sp.csr_matrix, cut: float) -> tuple[np.ndarray, ...]:
    """(rows, columns, cosines) of the pairs row < column whose product reaches `cut`.

    A top-n product with a threshold keeps only those entries as it multiplies (a plain
    sparse product holds almost every pair: any two posts share some word); a row that
    fills the top n is computed again in full, so no pair is lost to the cap.
    """
    if matrix.shape[0] >= COMPILED_PAIRS_FROM:
        return _compiled_pairs_above(matrix, cut)
    found = sp_matmul_topn(
        matrix,
        matrix.T.tocsr(),
        top_n=_PAIRS_PER_ROW,
        threshold=np.nextafter(cut, -1.0),
        n_threads=_THREADS,  # rows are independent: the same pairs, in half the time on 2 cores
    )
    entries = found.tocoo()
    rows, cols, values = [entries.row], [entries.col], [entries.data]
    full = np.flatnonzero(np.diff(found.indptr) >= _PAIRS_PER_ROW)
    if full.size:
        kept = ~np.isin(entries.row, full)
        rows, cols, values = [entries.row[kept]], [entries.col[kept]], [entries.data[kept]]
        for row in full:
            every = (matrix[row] @ matrix.T).tocoo()
            rows.append(np.full(every.nnz, row, dtype=np.int64))
            cols.append(every.col)
            values.append(every.data)
    row, col, value = (np.concatenate(part) for part in (rows, cols, values))
    keep = (value >= cut) & (row < col)
    return row[keep], col[keep], value[keep]


def _compiled_pairs_above(matrix: sp.csr_matrix, cut: float) -> tuple[np.ndarray, ...]:
    """_pairs_above by the compiled loop, its rows split in two spans of equal work
    (early rows add longer runs of postings) searched on two threads."""
    matrix = sp.csr_matrix(matrix, dtype=np.float32, copy=True)  # the caller's stays as is
    matrix.sum_duplicates()  # sorted, one entry per term (a repeat would pair a row with itself)
    postings = matrix.T.tocsr()  # sorted by row within each term
    # Each posting entry is added once for every later entry of its term: its row's work.
    after = postings.indptr[1:].repeat(np.diff(postings.indptr)) - np.arange(postings.nnz) - 1
    work = np.bincount(postings.indices, weights=after, minlength=matrix.shape[0])
    done = np.cumsum(work)
    split = int(np.searchsorted(done, done[-1] / 2)) if done.size and _THREADS > 1 else 0
    spans = [(0, split), (split, matrix.shape[0])] if split else [(0, matrix.shape[0])]
    room = max(1, int(work.max(initial=0)))
    search = compiled_pairs()
    # Compared in float32, as numpy compares the product path's float32 values with the
    # Python float `cut`.
    bar = np.float32(cut)
    arrays = (
        matrix.indptr.astype(np.int64),
        matrix.indices.astype(np.int32),
        matrix.data,
        postings.indptr.astype(np.int64),
        postings.indices.astype(np.int32),
        postings.data,
    )

    def run(span: tuple[int, int]) -> tuple[np.ndarray, ...]:
        first, stop = span
        seen = np.bincount(matrix.indices[: matrix.indptr[first]], minlength=matrix.shape[1])
        return search(*arrays, first, stop, seen.astype(np.int64), bar, room)

    with ThreadPoolExecutor(max_workers=len(spans)) as pool:  # the loop releases the GIL
        parts = list(pool.map(run, spans))
    return tuple(np.concatenate(part) for part in zip(*parts, strict=True))


@cache
def compiled_pairs():  # noqa: ANN201 - a numba dispatcher
    """The compiled pair search, loaded from numba's cache (or compiled, on a machine's
    first build) by running it once on one entry."""
    from .topn_compiled import _pairs_after

    one = sp.csr_matrix(np.ones((1, 1), dtype=np.float32))
    arrays = (one.indptr.astype(np.int64), one.indices, one.data) * 2
    _pairs_after(*arrays, 0, 1, np.zeros(1, np.int64), np.float32(1.0), 1)
    return _pairs_after


def duplicates_by_row(pairs: Sequence[DuplicatePair], rows: int) -> list[set[int]]:
    """For each row, the rows it is a near-duplicate of."""
    table: list[set[int]] = [set() for _ in range(rows)]
    for pair in pairs:
        table[pair.first].add(pair.second)
        table[pair.second].add(pair.first)
    return table
