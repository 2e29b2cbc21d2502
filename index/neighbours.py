"""Candidate related posts of a large corpus, found without scoring every pair.

Scoring every pair of 57,000 posts is 3.2 billion scores: a dense row of N scores per
post, most of them tiny but not zero (any two posts share some word), which took over
three minutes of a full build. A post's list only needs its best few, so a full build
of a large corpus first collects candidates and scores only those:

- the best `GLOBAL_CANDIDATES` over the whole corpus by text-and-label similarity (a
  top-n sparse product: sparse_dot_topn keeps the best entries of each row as it
  multiplies, so no row of N scores is ever held), and
- the best `BAND_CANDIDATES` among posts published within `closeness_days` of it: the
  time prior can lift a weaker match from the same months above a stronger old one
  (on a 57k synthetic corpus, where texts are alike, the blend rank of a final top-10
  entry reached 3,900), and a band of dates is a narrow slice of the corpus.

Both sides of each product keep a post's strongest terms (`CANDIDATE_TERMS`, see
related.py). Measured on auth0 and digitalgov with every list built this way: nDCG@10
0.470 and 0.509, the same as scoring every pair over those terms; keeping only the 64
strongest terms on the searching side was 4x cheaper but cost 0.011 and 0.018.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sparse_dot_topn import sp_matmul_topn

GLOBAL_CANDIDATES = 128
BAND_CANDIDATES = 128
# Dated posts in one band product: consecutive in date order, spanning at most half the
# band, so each post is searched against at least its own band.
_BAND_GROUP = 256


@dataclass
class BlendedMatches:
    """One post's candidates and their blended text-and-label similarity (no prior)."""

    columns: np.ndarray  # int64 rows of the corpus, without the post itself
    blend: np.ndarray  # float32


class CandidateSearch:
    """Top-n products of posts against the corpus (and against a band of dates).

    A post's vector is its text row times sqrt(text weight) beside its label row times
    sqrt(taxonomy weight), so one product gives the blended similarity of related.py.
    """

    def __init__(
        self,
        text: sp.csr_matrix,
        labels: sp.csr_matrix,
        taxonomy_weight: float,
        days: np.ndarray,
        band_days: float,
    ) -> None:
        text_scale = np.float32(np.sqrt(max(0.0, 1.0 - taxonomy_weight)))
        label_scale = np.float32(np.sqrt(max(0.0, taxonomy_weight)))
        self.vectors = sp.hstack([text * text_scale, labels * label_scale], format="csr")
        self.vectors_t = self.vectors.T.tocsr()
        dated = np.flatnonzero(~np.isnan(days))
        self.days = days
        self.date_order = dated[np.argsort(days[dated], kind="stable")]
        self.sorted_days = days[self.date_order]
        self.band_days = band_days

    def matches(self, rows: Sequence[int], wanted: int) -> list[BlendedMatches]:
        """Each row's candidates: at least `wanted` from the whole corpus (when that many
        share anything with it), plus the best of its band of dates."""
        rows = np.asarray(rows, dtype=np.int64)
        top_n = max(GLOBAL_CANDIDATES, wanted) + 1  # + 1: the post finds itself
        columns, blends = _split_rows(
            sp_matmul_topn(self.vectors[rows], self.vectors_t, top_n=top_n)
        )
        for offsets, band_columns, band_blends in self._band_matches(rows):
            for offset, extra_columns, extra_blends in zip(
                offsets, band_columns, band_blends, strict=True
            ):
                columns[offset] = np.concatenate([columns[offset], extra_columns])
                blends[offset] = np.concatenate([blends[offset], extra_blends])
        out = []
        for row, row_columns, row_blends in zip(rows, columns, blends, strict=True):
            unique, first = np.unique(row_columns, return_index=True)
            keep = unique != row
            out.append(BlendedMatches(unique[keep].astype(np.int64), row_blends[first][keep]))
        return out

    def blend(self, row: int, columns: Sequence[int]) -> np.ndarray:
        """The blended similarity of `row` to chosen posts (an editor's pins)."""
        if not len(columns):
            return np.zeros(0, dtype=np.float32)
        product = self.vectors[[row]] @ self.vectors[list(columns)].T
        return np.asarray(product.toarray(), dtype=np.float32).ravel()

    def _band_matches(self, rows: np.ndarray):
        """(offsets in `rows`, per offset its band candidates' columns and blends), for
        groups of dated rows close in time."""
        dated = np.flatnonzero(~np.isnan(self.days[rows]))
        if not dated.size or self.band_days <= 0:
            return
        dated = dated[np.argsort(self.days[rows[dated]], kind="stable")]
        start = 0
        while start < dated.size:
            first_day = self.days[rows[dated[start]]]
            stop = start + 1
            while (
                stop < dated.size
                and stop - start < _BAND_GROUP
                and self.days[rows[dated[stop]]] - first_day <= self.band_days / 2
            ):
                stop += 1
            group = dated[start:stop]
            group_days = self.days[rows[group]]
            low = np.searchsorted(self.sorted_days, group_days.min() - self.band_days, "left")
            high = np.searchsorted(self.sorted_days, group_days.max() + self.band_days, "right")
            band = self.date_order[low:high]
            band_columns, band_blends = _split_rows(
                sp_matmul_topn(
                    self.vectors[rows[group]],
                    self.vectors[band].T.tocsr(),
                    top_n=BAND_CANDIDATES + 1,
                )
            )
            yield group, [band[c] for c in band_columns], band_blends
            start = stop


def _split_rows(found: sp.csr_matrix) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """A sparse result's rows as (column arrays, value arrays)."""
    bounds = found.indptr
    columns = [found.indices[bounds[i] : bounds[i + 1]] for i in range(found.shape[0])]
    values = [found.data[bounds[i] : bounds[i + 1]] for i in range(found.shape[0])]
    return columns, values
