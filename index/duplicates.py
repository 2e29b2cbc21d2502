"""Near-duplicate posts: pairs whose TF-IDF cosine reaches a threshold.

Content sites repeat themselves (a post republished under a new slug, a press release
and its blog version, a translation that kept the code). The related lists never show
two such posts together, and `postsearch duplicates` lists the pairs so an owner can
merge or redirect them. Computed in row blocks, like the related lists, so memory stays
bounded; at 0.85 the pairs found on the real blogs in ../shared are all the same text
(a few words changed) and none is merely on the same topic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

DEFAULT_THRESHOLD = 0.85


@dataclass(frozen=True)
class DuplicatePair:
    """Two rows of the build (first < second) and their TF-IDF cosine."""

    first: int
    second: int
    similarity: float


def find_near_duplicates(
    text_matrix: sp.csr_matrix, threshold: float = DEFAULT_THRESHOLD, block_rows: int = 512
) -> list[DuplicatePair]:
    """Every pair of posts with cosine ≥ `threshold`, most similar first, then by rows.

    `text_matrix` holds L2-normalised rows (the build's `tfidf.npz`); empty rows never
    pair up. Raises ValueError for a threshold outside (0, 1].
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    matrix = sp.csr_matrix(text_matrix, dtype=np.float32)
    transposed = matrix.T.tocsc()
    pairs: list[DuplicatePair] = []
    # float32 cosines of identical rows can land a hair under 1.0.
    cut = threshold - 1e-6
    for start in range(0, matrix.shape[0], block_rows):
        sims = (matrix[start : start + block_rows] @ transposed).toarray()
        rows, cols = np.nonzero(sims >= cut)
        for row, col in zip(rows + start, cols, strict=True):
            if row < col:
                pairs.append(DuplicatePair(int(row), int(col), float(sims[row - start, col])))
    pairs.sort(key=lambda p: (-round(p.similarity, 6), p.first, p.second))
    return pairs


def duplicates_by_row(pairs: Sequence[DuplicatePair], rows: int) -> list[set[int]]:
    """For each row, the rows it is a near-duplicate of."""
    table: list[set[int]] = [set() for _ in range(rows)]
    for pair in pairs:
        table[pair.first].add(pair.second)
        table[pair.second].add(pair.first)
    return table
