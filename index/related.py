"""Precompute every post's related posts: TF-IDF cosine blended with taxonomy overlap.

The taxonomy part is a cosine between weighted label vectors, where a label is a
category (weighted by its level: a shared niche says more than a shared general
category) or a tag/keyword, and every weight is multiplied by the label's rarity
(IDF): a category on half the posts says little. Lists are computed in row blocks so
memory stays bounded at tens of thousands of posts.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from .posts import Post

RELATED_FILE = "related.npz"

LEVEL_WEIGHTS = {
    "niche": 1.0,
    "specific": 0.85,
    "exact": 0.8,
    "medium": 0.55,
    "unknown": 0.5,
    "general": 0.3,
    "tag": 0.6,
}


@dataclass(frozen=True)
class RelatedSettings:
    """How the related lists are scored; saved in the manifest with each build."""

    neighbours: int = 30
    text_weight: float = 0.65
    taxonomy_weight: float = 0.35
    level_weights: dict[str, float] = field(default_factory=lambda: dict(LEVEL_WEIGHTS))
    # Labels only one post carries cannot be shared; counting them in a post's norm says
    # "this post is also about other things" (see bench/related_quality.py for the effect).
    count_unshared_labels: bool = True
    block_rows: int = 512


@dataclass
class RelatedLists:
    """Top neighbours per post (row order of posts.json), -1 where a list is short."""

    neighbours: np.ndarray  # int32, N x K
    score: np.ndarray  # float32, N x K
    text: np.ndarray  # float32, N x K, the TF-IDF cosine part
    taxonomy: np.ndarray  # float32, N x K, the label-overlap part

    def save(self, out_dir: Path) -> None:
        """Write the lists as one uncompressed `.npz` of plain numeric arrays."""
        np.savez(out_dir / RELATED_FILE, neighbours=self.neighbours, score=self.score,
                 text=self.text, taxonomy=self.taxonomy)

    @classmethod
    def load(cls, build_dir: Path) -> RelatedLists:
        """Load the lists, refusing any pickled object."""
        with np.load(build_dir / RELATED_FILE, allow_pickle=False) as data:
            return cls(data["neighbours"], data["score"], data["text"], data["taxonomy"])


def label_keys(post: Post) -> list[tuple[str, str]]:
    """The post's labels as (key, level) pairs: one per category and one per tag/keyword."""
    keys = [(f"c:{c.name.casefold()}", c.level) for c in post.categories]
    keys += [(f"t:{name.casefold()}", "tag") for name in post.labels]
    return keys


def label_idf(posts: Sequence[Post], min_posts: int = 1) -> dict[str, float]:
    """Rarity of each label on at least `min_posts` posts: log(N / df), 0 if on every post."""
    counts = Counter(key for post in posts for key in {k for k, _ in label_keys(post)})
    total = len(posts)
    return {key: math.log(total / df) for key, df in counts.items() if df >= min_posts}


def taxonomy_matrix(posts: Sequence[Post], settings: RelatedSettings) -> sp.csr_matrix:
    """Rows of L2-normalised, level- and rarity-weighted label vectors."""
    idf = label_idf(posts, 1 if settings.count_unshared_labels else 2)
    columns = {key: i for i, key in enumerate(sorted(idf))}
    rows, cols, values = [], [], []
    for row, post in enumerate(posts):
        weights: dict[int, float] = {}
        for key, level in label_keys(post):
            if key in columns:
                weight = settings.level_weights.get(level, 0.5) * idf[key]
                weights[columns[key]] = max(weights.get(columns[key], 0.0), weight)
        for col, weight in weights.items():
            rows.append(row)
            cols.append(col)
            values.append(weight)
    matrix = sp.csr_matrix((values, (rows, cols)), shape=(len(posts), max(1, len(columns))),
                           dtype=np.float32)
    norms = np.sqrt(matrix.multiply(matrix).sum(axis=1)).A1
    norms[norms == 0] = 1.0
    return sp.csr_matrix(sp.diags(1.0 / norms) @ matrix, dtype=np.float32)


def compute_related(
    posts: Sequence[Post],
    text_matrix: sp.csr_matrix,
    settings: RelatedSettings | None = None,
    on_rows: Callable[[int], None] | None = None,
) -> RelatedLists:
    """Score every pair of posts and keep each post's top `settings.neighbours`.

    Ties break on slug so lists do not change between identical builds.
    """
    settings = settings or RelatedSettings()
    total = len(posts)
    k = min(settings.neighbours, max(0, total - 1))
    labels = taxonomy_matrix(posts, settings)
    slug_rank = np.argsort(np.argsort([p.slug for p in posts], kind="stable")).astype(np.int64)
    out = RelatedLists(
        neighbours=np.full((total, k), -1, dtype=np.int32),
        score=np.zeros((total, k), dtype=np.float32),
        text=np.zeros((total, k), dtype=np.float32),
        taxonomy=np.zeros((total, k), dtype=np.float32),
    )
    text_t, labels_t = text_matrix.T.tocsc(), labels.T.tocsc()
    for start in range(0, total, settings.block_rows):
        stop = min(total, start + settings.block_rows)
        text_sim = (text_matrix[start:stop] @ text_t).toarray()
        label_sim = (labels[start:stop] @ labels_t).toarray()
        combined = settings.text_weight * text_sim + settings.taxonomy_weight * label_sim
        combined[np.arange(stop - start), np.arange(start, stop)] = -np.inf  # never itself
        _keep_top(out, start, combined, text_sim, label_sim, slug_rank, k)
        if on_rows is not None:
            on_rows(stop - start)
    return out


def _keep_top(out: RelatedLists, start: int, combined: np.ndarray, text_sim: np.ndarray,
              label_sim: np.ndarray, slug_rank: np.ndarray, k: int) -> None:
    if k == 0:
        return
    for offset, row in enumerate(combined):
        # Take a few extra candidates so ties at the cut-off are settled by slug.
        take = min(len(row) - 1, k + 8)
        candidates = np.argpartition(-row, take - 1)[:take] if take < len(row) else np.arange(
            len(row))
        candidates = candidates[np.isfinite(row[candidates])]
        order = np.lexsort((slug_rank[candidates], -np.round(row[candidates], 6)))
        chosen = candidates[order][:k]
        i = start + offset
        out.neighbours[i, : len(chosen)] = chosen
        out.score[i, : len(chosen)] = row[chosen]
        out.text[i, : len(chosen)] = text_sim[offset, chosen]
        out.taxonomy[i, : len(chosen)] = label_sim[offset, chosen]
