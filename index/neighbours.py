"""Candidate related posts of a large corpus, found without scoring every pair.

Scoring every pair of 57,000 posts is 3.2 billion scores: a dense row of N scores per
post, most of them tiny but not zero (any two posts share some word), which took over
three minutes of a full build. A post's list only needs its best few, so a full build
of a large corpus first collects candidates and scores only those:

- the best `GLOBAL_CANDIDATES` over the whole corpus by text-and-label similarity, and
- the best `BAND_CANDIDATES` among posts published within `closeness_days` of it: the
  time prior can lift a weaker match from the same months above a stronger old one
  (on a 57k synthetic corpus, where texts are alike, the blend rank of a final top-10
  entry reached 3,900).

Both come from one pass over each post's products with the corpus (see topn.py): only
the best are kept, so no table of N x N scores is ever held.

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

from .topn import compiled_search, top_matches

GLOBAL_CANDIDATES = 128
BAND_CANDIDATES = 128


@dataclass
class BlendedMatches:
    """One post's candidates and their blended text-and-label similarity (no prior)."""

    columns: np.ndarray  # int64 rows of the corpus, without the post itself
    blend: np.ndarray  # float32


class CandidateSearch:
    """Best products of posts with the corpus (and with their band of dates).

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
        self.days = days
        self.band_days = band_days
        self.compiled = False

    def compile(self) -> None:
        """Search with the compiled loops from now on (see topn.py): worth loading them
        from COMPILED_FROM products (rows x posts). Call it before forking, so it is
        done once."""
        compiled_search()
        self.compiled = True

    def matches(self, rows: Sequence[int], wanted: int) -> list[BlendedMatches]:
        """Each row's candidates: at least `wanted` from the whole corpus (when that many
        share anything with it), plus the best of its band of dates."""
        rows = np.asarray(rows, dtype=np.int64)
        found = top_matches(
            self.vectors[rows],
            self.vectors_t,
            top_n=max(GLOBAL_CANDIDATES, wanted) + 1,  # + 1: the post finds itself
            days=self.days,
            query_days=self.days[rows],
            band_days=self.band_days,
            band_n=BAND_CANDIDATES + 1,
            compiled=self.compiled,
        )
        columns = np.hstack([found.columns, found.band_columns])
        blends = np.hstack([found.values, found.band_values])
        out = []
        for row, row_columns, row_blends in zip(rows, columns, blends, strict=True):
            unique, first = np.unique(row_columns, return_index=True)
            keep = (unique != row) & (unique >= 0)
            out.append(BlendedMatches(unique[keep].astype(np.int64), row_blends[first][keep]))
        return out

    def blend(self, row: int, columns: Sequence[int]) -> np.ndarray:
        """The blended similarity of `row` to chosen posts (an editor's pins)."""
        if not len(columns):
            return np.zeros(0, dtype=np.float32)
        product = self.vectors[[row]] @ self.vectors[list(columns)].T
        return np.asarray(product.toarray(), dtype=np.float32).ravel()
