"""Each row's best products with the corpus, and its best within its band of dates.

A general top-n sparse product (sparse_dot_topn, scipy) tracks which columns each row
touched in a linked list, about 8 ns a multiply-add here. A row of the related-posts
search touches nearly every post anyway (any two posts share some strong word), so
here a row's scores go into a dense array of one float per post (228 KB at 57k posts:
it stays in the core's cache), its terms' postings are added into it, and one pass
over it keeps the best `top_n` over the corpus and the best `band_n` among posts
dated within `band_days` of the row. Each is a buffer of entries above a bar, cut
back to the best n by one selection when full (heaps re-sorted themselves on each of
the ~800 better columns a row meets at 57k posts). Measured at 57k posts on this
machine: about 1.0 ms a row against 1.2-1.4 ms with heaps and 3.5 ms for
sparse_dot_topn's global product alone, and the band, a second product per group of
rows before, costs one comparison per post.

Computing each pair's product once (a row adding only the postings after it and
offering each product to both rows' buffers) halves the additions, but it was 2.3x
slower in all: the offers to other rows' buffers miss the cache.

The loops are compiled by numba (topn_compiled.py; cached beside it after the first
build). Loading numba takes about a second (0.9 s here), so a search of fewer than
`COMPILED_FROM` products in all (rows times posts: an incremental build's few hundred
lists) takes each row's products from scipy instead: the same float32 sums in the same
order, so both ways find the same posts. Per row, scipy costs about 3.5 times the
compiled loops, and both grow with the corpus: 0.9 against 0.27 ms at 10k posts, 3.2
against 0.9 ms at 57k. Loading pays from about 1,500 rows at 10k and 400 at 57k, some
20 million products either way (a threshold in rows, 256, had the 385 lists that one
edited post touched at 10k spend 0.9 s loading to save 0.25 s).
"""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

COMPILED_FROM = 20_000_000  # products: rows searched x posts searched


class TopMatches(NamedTuple):
    """Per query row, columns (-1 where fewer were found) and their products (0 there),
    best first."""

    columns: np.ndarray  # int32, rows x top_n
    values: np.ndarray  # float32, rows x top_n
    band_columns: np.ndarray  # int32, rows x band_n
    band_values: np.ndarray  # float32, rows x band_n


def top_matches(
    queries: sp.csr_matrix,
    postings: sp.csr_matrix,
    top_n: int,
    days: np.ndarray | None = None,
    query_days: np.ndarray | None = None,
    band_days: float = 0.0,
    band_n: int = 0,
    compiled: bool = False,
) -> TopMatches:
    """The best positive products of each row of `queries` (rows x terms) with the
    columns of `postings` (terms x corpus, i.e. the corpus transposed).

    With `days` (per corpus column) and `query_days` (per query row), also each row's
    best `band_n` among columns whose day is within `band_days` of the row's (NaN days
    are in no band). Ties keep the lower column. `compiled` chooses the compiled loops
    (see `compiled_search`) over scipy's products; both give the same result.
    """
    corpus = postings.shape[1]
    top_n = max(0, min(top_n, corpus))
    band_n = max(0, min(band_n, corpus)) if band_days > 0 and days is not None else 0
    rows = queries.shape[0]
    if days is None or query_days is None:
        days = np.full(corpus, np.nan)
        query_days = np.full(rows, np.nan)
    arrays = _arrays(queries, postings, days, query_days, band_days, top_n, band_n)
    if compiled:
        return TopMatches(*compiled_search()(*arrays))
    return _by_products(queries, postings, *arrays[6:])


def _arrays(
    queries: sp.csr_matrix,
    postings: sp.csr_matrix,
    days: np.ndarray,
    query_days: np.ndarray,
    band_days: float,
    top_n: int,
    band_n: int,
) -> tuple:
    """The compiled search's arguments, in the types it is compiled for (one signature)."""
    return (
        queries.indptr.astype(np.int64, copy=False),
        queries.indices.astype(np.int32, copy=False),
        queries.data.astype(np.float32, copy=False),
        postings.indptr.astype(np.int64, copy=False),
        postings.indices.astype(np.int32, copy=False),
        postings.data.astype(np.float32, copy=False),
        np.asarray(days, dtype=np.float64),
        np.asarray(query_days, dtype=np.float64),
        float(band_days),
        postings.shape[1],
        top_n,
        band_n,
    )


@cache
def compiled_search():  # noqa: ANN201 - a numba dispatcher
    """The compiled search, loaded from numba's cache (or compiled, on a machine's first
    build: a few seconds) by running it once on one entry. A process about to fork its
    workers calls this first, so they inherit the machine code instead of each loading
    or compiling it."""
    from .topn_compiled import _top_matches

    one = sp.csr_matrix(np.ones((1, 1), dtype=np.float32))
    _top_matches(*_arrays(one, one.T.tocsr(), np.full(1, np.nan), np.full(1, np.nan), 0.0, 1, 0))
    return _top_matches


def _by_products(
    queries: sp.csr_matrix,
    postings: sp.csr_matrix,
    days: np.ndarray,
    query_days: np.ndarray,
    band_days: float,
    corpus: int,
    top_n: int,
    band_n: int,
) -> TopMatches:
    """top_matches for a few rows: scipy's products, then a partial sort."""
    rows = queries.shape[0]
    found = TopMatches(
        np.full((rows, top_n), -1, np.int32),
        np.zeros((rows, top_n), np.float32),
        np.full((rows, band_n), -1, np.int32),
        np.zeros((rows, band_n), np.float32),
    )
    products = (
        queries.astype(np.float32, copy=False) @ postings.astype(np.float32, copy=False)
    ).toarray()
    for row, scores in enumerate(products):
        best = _best(scores, np.flatnonzero(scores > 0), top_n)
        found.columns[row, : best.size] = best
        found.values[row, : best.size] = scores[best]
        if band_n and not np.isnan(query_days[row]):
            near = np.flatnonzero((scores > 0) & (np.abs(days - query_days[row]) <= band_days))
            best = _best(scores, near, band_n)
            found.band_columns[row, : best.size] = best
            found.band_values[row, : best.size] = scores[best]
    return found


def _best(scores: np.ndarray, columns: np.ndarray, n: int) -> np.ndarray:
    """The n best of `columns` by score, best first; ties to the lower column."""
    if n <= 0:
        return columns[:0]
    if columns.size > n:
        cut = np.partition(scores[columns], columns.size - n)[columns.size - n]
        columns = columns[scores[columns] >= cut]
    return columns[np.lexsort((columns, -scores[columns]))][:n]
