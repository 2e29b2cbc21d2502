"""The compiled loops of topn.py and duplicates.py (numba): imported only when a build
searches enough rows to pay for loading them (about a second: numba itself, then its
cache)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _top_matches(
    q_indptr, q_indices, q_data, p_indptr, p_indices, p_data, days, query_days, band_days,
    corpus, top_n, band_n,
):  # fmt: skip
    rows = q_indptr.shape[0] - 1
    columns = np.full((rows, top_n), -1, np.int32)
    values = np.zeros((rows, top_n), np.float32)
    band_columns = np.full((rows, band_n), -1, np.int32)
    band_values = np.zeros((rows, band_n), np.float32)
    scores = np.zeros(corpus, np.float32)
    room = _ROOM_PER_KEPT * top_n + _ROOM_EXTRA
    band_room = _ROOM_PER_KEPT * band_n + _ROOM_EXTRA
    kept_values = np.empty(room, np.float32)
    kept_columns = np.empty(room, np.int32)
    band_kept_values = np.empty(band_room, np.float32)
    band_kept_columns = np.empty(band_room, np.int32)
    for row in range(rows):
        scores[:] = 0.0
        for k in range(q_indptr[row], q_indptr[row + 1]):
            term = q_indices[k]
            weight = q_data[k]
            for j in range(p_indptr[term], p_indptr[term + 1]):
                scores[p_indices[j]] += weight * p_data[j]
        day = query_days[row]
        banded = band_n > 0 and not np.isnan(day)
        # A column is kept while it beats the bar: 0 at first (only positive products
        # count), then the least value of the best n at the last compaction. Columns
        # come in increasing order, so one equal to the bar loses to those kept before.
        size = 0
        bar = np.float32(0.0) if top_n > 0 else np.float32(np.inf)
        band_size = 0
        band_bar = np.float32(0.0) if banded else np.float32(np.inf)
        for column in range(corpus):
            value = scores[column]
            if value > bar:
                if size == room:
                    size, bar = _compact(kept_values, kept_columns, size, top_n, bar)
                if value > bar:
                    kept_values[size] = value
                    kept_columns[size] = column
                    size += 1
            if value > band_bar and abs(days[column] - day) <= band_days:  # False for NaN
                if band_size == band_room:
                    band_size, band_bar = _compact(
                        band_kept_values, band_kept_columns, band_size, band_n, band_bar
                    )
                if value > band_bar:
                    band_kept_values[band_size] = value
                    band_kept_columns[band_size] = column
                    band_size += 1
        _best_first(kept_values, kept_columns, size, top_n, values[row], columns[row])
        _best_first(
            band_kept_values, band_kept_columns, band_size, band_n,
            band_values[row], band_columns[row],
        )  # fmt: skip
    return columns, values, band_columns, band_values


# Room for this many times the wanted entries (plus a few) before a compaction: each
# compaction is one selection over the room, and a column beats the bar less and less
# often as the row goes on (a heap of the best n instead re-sorted itself on every
# better column, a quarter of the search's time at 57k posts).
_ROOM_PER_KEPT = 4
_ROOM_EXTRA = 64


@njit(cache=True, nogil=True)
def _compact(values, columns, size, n, bar):
    """Keep the n best of the first `size` entries, in their order (increasing
    columns, so of equal values the lower columns stay); returns the new size and the
    new bar (the least value kept)."""
    if size <= n:
        return size, bar
    cut = np.partition(values[:size], size - n)[size - n]  # the n-th largest value
    above = 0
    for i in range(size):
        if values[i] > cut:
            above += 1
    ties = n - above  # entries equal to the cut that stay: the first ones
    kept = 0
    for i in range(size):
        value = values[i]
        if value > cut or (value == cut and ties > 0):
            if value == cut:
                ties -= 1
            values[kept] = value
            columns[kept] = columns[i]
            kept += 1
    return kept, max(bar, cut)


@njit(cache=True, nogil=True)
def _best_first(values, columns, size, n, out_values, out_columns):
    """The n best of the first `size` entries into the outputs, best first (of equal
    values, the lower column first: entries are in increasing columns and the sort is
    stable)."""
    size, _ = _compact(values, columns, size, n, np.float32(0.0))
    order = np.argsort(-values[:size], kind="mergesort")
    for position in range(size):
        out_values[position] = values[order[position]]
        out_columns[position] = columns[order[position]]


@njit(cache=True, nogil=True)
def _pairs_after(
    indptr, indices, data, p_indptr, p_indices, p_data, first, stop, seen, cut, room,
):  # fmt: skip
    """(rows, columns, products) of the pairs row < column whose product reaches `cut`,
    for rows first..stop-1 of a corpus (rows x terms) and its transpose (`p_*`).

    Each pair is computed once: row i adds only the postings of columns after it.
    `seen` holds, per term, how many rows before `first` have it, which is row i's
    place in the term's postings (kept up to date here). Columns are noted as they are
    first touched (without a branch: `room` is at least the most additions of a row),
    so only those are read back.
    """
    corpus = indptr.shape[0] - 1
    scores = np.zeros(corpus, np.float32)
    touched = np.empty(room, np.int32)
    rows = []
    columns = []
    products = []
    for row in range(first, stop):
        count = 0
        for k in range(indptr[row], indptr[row + 1]):
            term = indices[k]
            weight = data[k]
            place = p_indptr[term] + seen[term]
            seen[term] += 1
            for j in range(place + 1, p_indptr[term + 1]):
                column = p_indices[j]
                value = scores[column]
                touched[count] = column
                count += value == 0.0
                scores[column] = value + weight * p_data[j]
        for t in range(count):
            column = touched[t]
            value = scores[column]
            scores[column] = 0.0
            if value >= cut:
                rows.append(row)
                columns.append(column)
                products.append(value)
    return (
        np.array(rows, dtype=np.int64),
        np.array(columns, dtype=np.int64),
        np.array(products, dtype=np.float32),
    )
