"""The compiled loops of topn.py (numba): imported only when a build searches enough
rows to pay for loading them (about a second: numba itself, then its cache)."""

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
    heap_values = np.empty(top_n, np.float32)
    heap_columns = np.empty(top_n, np.int32)
    band_heap_values = np.empty(band_n, np.float32)
    band_heap_columns = np.empty(band_n, np.int32)
    for row in range(rows):
        scores[:] = 0.0
        for k in range(q_indptr[row], q_indptr[row + 1]):
            term = q_indices[k]
            weight = q_data[k]
            for j in range(p_indptr[term], p_indptr[term + 1]):
                scores[p_indices[j]] += weight * p_data[j]
        day = query_days[row]
        banded = band_n > 0 and not np.isnan(day)
        size = 0
        band_size = 0
        for column in range(corpus):
            value = scores[column]
            if value <= 0.0:
                continue
            if size < top_n:
                _push(heap_values, heap_columns, size, value, column)
                size += 1
            elif top_n and value > heap_values[0]:
                _replace_least(heap_values, heap_columns, size, value, column)
            if banded and abs(days[column] - day) <= band_days:  # False for a NaN day
                if band_size < band_n:
                    _push(band_heap_values, band_heap_columns, band_size, value, column)
                    band_size += 1
                elif value > band_heap_values[0]:
                    _replace_least(band_heap_values, band_heap_columns, band_size, value, column)
        _drain(heap_values, heap_columns, size, values[row], columns[row])
        _drain(band_heap_values, band_heap_columns, band_size, band_values[row], band_columns[row])
    return columns, values, band_columns, band_values


@njit(cache=True, nogil=True)
def _less(values, columns, a, b):
    """Heap order: the smaller value first; of equal values, the higher column (so the
    lower column is kept on a tie)."""
    return values[a] < values[b] or (values[a] == values[b] and columns[a] > columns[b])


@njit(cache=True, nogil=True)
def _swap(values, columns, a, b):
    values[a], values[b] = values[b], values[a]
    columns[a], columns[b] = columns[b], columns[a]


@njit(cache=True, nogil=True)
def _push(values, columns, size, value, column):
    values[size] = value
    columns[size] = column
    child = size
    while child > 0:
        parent = (child - 1) >> 1
        if not _less(values, columns, child, parent):
            break
        _swap(values, columns, child, parent)
        child = parent


@njit(cache=True, nogil=True)
def _sift_down(values, columns, size):
    parent = 0
    while True:
        least = parent
        for child in (2 * parent + 1, 2 * parent + 2):
            if child < size and _less(values, columns, child, least):
                least = child
        if least == parent:
            return
        _swap(values, columns, parent, least)
        parent = least


@njit(cache=True, nogil=True)
def _replace_least(values, columns, size, value, column):
    values[0] = value
    columns[0] = column
    _sift_down(values, columns, size)


@njit(cache=True, nogil=True)
def _drain(values, columns, size, out_values, out_columns):
    """Empty the heap into the outputs, best first."""
    for position in range(size - 1, -1, -1):
        out_values[position] = values[0]
        out_columns[position] = columns[0]
        size -= 1
        if size:
            _swap(values, columns, 0, size)
            _sift_down(values, columns, size)
