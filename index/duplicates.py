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

from .tfidf import l2_normalise, strongest_terms

DEFAULT_THRESHOLD = 0.85
# Outside `postsearch duplicates`, pairs are first scouted over each post's strongest
# terms; a near-copy's cosine over them stays well above CANDIDATE_SHARE × threshold.
DUPLICATE_TERMS = 64
CANDIDATE_SHARE = 0.7


@dataclass(frozen=True)
class DuplicatePair:
    """Two rows of the build (first < second) and their TF-IDF cosine."""

    first: int
    second: int
    similarity: float


def find_near_duplicates(
    text_matrix: sp.csr_matrix,
    threshold: float = DEFAULT_THRESHOLD,
    block_rows: int = 512,
    exhaustive: bool = True,
) -> list[DuplicatePair]:
    """Every pair of posts with cosine ≥ `threshold`, most similar first, then by rows.

    `text_matrix` holds L2-normalised rows (the build's `tfidf.npz`); empty rows never
    pair up. Exhaustive, every pair is compared: a dense product whose cost grows with
    the square of the corpus (16 s at 10k posts). Otherwise (builds) only pairs whose
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
        candidates, scout_cut = matrix, cut
    else:
        candidates, scout_cut = (
            l2_normalise(strongest_terms(matrix, DUPLICATE_TERMS)),
            (CANDIDATE_SHARE * threshold),
        )
    transposed = candidates.T.tocsc()
    pairs: list[DuplicatePair] = []
    for start in range(0, matrix.shape[0], block_rows):
        scouted = (candidates[start : start + block_rows] @ transposed).tocoo()
        keep = (scouted.data >= scout_cut) & (scouted.row + start < scouted.col)
        rows, cols = scouted.row[keep] + start, scouted.col[keep]
        if rows.size == 0:
            continue
        if exhaustive:
            similarity = scouted.data[keep]
        else:  # the full cosine of each scouted pair
            similarity = np.asarray(matrix[rows].multiply(matrix[cols]).sum(axis=1)).ravel()
        for row, col, value in zip(rows, cols, similarity, strict=True):
            if value >= cut:
                pairs.append(DuplicatePair(int(row), int(col), float(value)))
    pairs.sort(key=lambda p: (-round(p.similarity, 6), p.first, p.second))
    return pairs


def duplicates_by_row(pairs: Sequence[DuplicatePair], rows: int) -> list[set[int]]:
    """For each row, the rows it is a near-duplicate of."""
    table: list[set[int]] = [set() for _ in range(rows)]
    for pair in pairs:
        table[pair.first].add(pair.second)
        table[pair.second].add(pair.first)
    return table
