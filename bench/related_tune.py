"""Choose the related-list settings by cross-validation over several blogs at once.

    python -m bench.related_tune --blog auth0=POSTS:TRUTH --blog digitalgov=POSTS:TRUTH

Each blog is copied without pin fields and built (as `bench.related` does); then every
combination of a small grid of `RelatedSettings` (taxonomy_scale, closeness_bonus,
closeness_days, newer_discount, text_power) is scored with the functions the build
uses (`sharpen`, `taxonomy_matrix`, `label_informativeness`, `time_prior`). It reports:

- k-fold cross-validation: the judged posts of every blog are split in k folds; for
  each fold the one setting set with the best mean nDCG@10 over all blogs' other folds
  is chosen, and scored on the held-out fold (one setting set for all corpora);
- leave-one-blog-out: tuned on one blog, scored on each other;
- sensitivity: one setting changed at a time around the current defaults.

Scores here leave out the near-duplicate filter and the fill-up of short lists, so they
can differ from `bench.related` in the third decimal.
"""

from __future__ import annotations

import argparse
import itertools
import json
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from index import build
from index.catalog import load_catalog
from index.related import (
    RelatedSettings,
    label_informativeness,
    publication_days,
    sharpen,
    taxonomy_matrix,
    time_prior,
)

from .related import PIN_FIELDS, copy_without_pins, load_truth

GRID = {
    "taxonomy_scale": (0.4, 0.6, 0.8, 1.0),
    "closeness_bonus": (0.0, 0.5, 1.0, 1.5),
    "closeness_days": (90.0, 180.0, 365.0, 730.0),
    "newer_discount": (0.0, 0.3, 0.45, 0.6, 0.75),
    "text_power": (1.0, 1.25, 1.5, 1.75),
}
_DISCOUNTS = 1 / np.log2(np.arange(2, 12))


class Blog:
    """One built blog: per judged post, its similarity rows and its relevant posts."""

    def __init__(self, name: str, posts: Path, truth_file: Path, tmp: Path) -> None:
        self.name = name
        copy_without_pins(posts, tmp / name / "posts", set(PIN_FIELDS))
        build(tmp / name / "posts", tmp / name / "index")
        build_dir = tmp / name / "index" / "current"
        records = load_catalog(build_dir)
        row_of = {}
        for row, record in enumerate(records):
            row_of.setdefault(record["path"], row)
            row_of.setdefault(Path(record["path"]).name, row)
        queries = []
        for name_, picks in load_truth(truth_file).items():
            row = row_of.get(name_)
            wanted = {row_of[p] for p in picks if p in row_of} - {row}
            if row is not None and wanted:
                queries.append((row, wanted))
        self.rows = np.array([row for row, _ in queries])
        self.relevant = np.zeros((len(queries), len(records)), dtype=bool)
        for i, (_, wanted) in enumerate(queries):
            self.relevant[i, list(wanted)] = True
        self.matrix = sp.load_npz(build_dir / "tfidf.npz").tocsr()
        labels = taxonomy_matrix(records, RelatedSettings())
        self.taxonomy = (labels[self.rows] @ labels.T).toarray()
        self.informativeness = label_informativeness(records)
        self.days = publication_days(records)
        self._text: dict[float, np.ndarray] = {}

    def text(self, power: float) -> np.ndarray:
        if power not in self._text:
            sharp = sharpen(self.matrix, power)
            self._text[power] = (sharp[self.rows] @ sharp.T).toarray()
        return self._text[power]

    def ndcg(self, settings: RelatedSettings) -> np.ndarray:
        """nDCG@10 of every judged post under `settings`."""
        weight = min(1.0, settings.taxonomy_scale * self.informativeness)
        prior = time_prior(self.days[self.rows][:, None], self.days[None, :], settings)
        scores = ((1 - weight) * self.text(settings.text_power) + weight * self.taxonomy) * prior
        scores[np.arange(len(self.rows)), self.rows] = -1.0
        top = np.argpartition(-scores, 10, axis=1)[:, :10]
        order = np.argsort(-np.take_along_axis(scores, top, 1), axis=1, kind="stable")
        top = np.take_along_axis(top, order, 1)
        kept = np.take_along_axis(scores, top, 1) > 0
        hits = np.take_along_axis(self.relevant, top, 1) & kept
        ideal = np.cumsum(_DISCOUNTS)[np.minimum(self.relevant.sum(1), 10) - 1]
        return (hits * _DISCOUNTS).sum(1) / ideal


def tune(blogs: list[Blog], folds: int, seed: int) -> dict:
    """Cross-validation, leave-one-blog-out and sensitivity results."""
    combos = [dict(zip(GRID, values, strict=True)) for values in itertools.product(*GRID.values())]
    base = RelatedSettings()
    scores = [{b.name: b.ndcg(replace(base, **c)) for b in blogs} for c in combos]
    rng = np.random.default_rng(seed)
    fold_of = {b.name: rng.permutation(len(b.rows)) % folds for b in blogs}
    held = {b.name: np.zeros(len(b.rows)) for b in blogs}
    chosen = []
    for fold in range(folds):

        def train(i: int, fold: int = fold) -> float:
            return float(np.mean([s[fold_of[n] != fold].mean() for n, s in scores[i].items()]))

        best = max(range(len(combos)), key=train)
        chosen.append(combos[best])
        for name, values in scores[best].items():
            held[name][fold_of[name] == fold] = values[fold_of[name] == fold]
    loo = {}
    for blog in blogs:
        best = max(range(len(combos)), key=lambda i: scores[i][blog.name].mean())
        loo[blog.name] = {
            "settings": combos[best],
            **{n: round(float(s.mean()), 4) for n, s in scores[best].items()},
        }
    defaults = {b.name: round(float(b.ndcg(base).mean()), 4) for b in blogs}
    sensitivity = {
        f"{name}={value}": {
            b.name: round(float(b.ndcg(replace(base, **{name: value})).mean()), 4) for b in blogs
        }
        for name, values in GRID.items()
        for value in values
    }
    return {
        "cross_validated": {n: round(float(v.mean()), 4) for n, v in held.items()},
        "chosen_per_fold": chosen,
        "tuned_on_one_blog": loo,
        "defaults": defaults,
        "sensitivity": sensitivity,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blog", action="append", required=True, metavar="NAME=POSTS:TRUTH")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-tune-") as tmp:
        blogs = []
        for spec in args.blog:
            name, _, paths = spec.partition("=")
            posts, _, truth = paths.partition(":")
            blogs.append(Blog(name, Path(posts), Path(truth), Path(tmp)))
        print(json.dumps(tune(blogs, args.folds, args.seed), indent=1))


if __name__ == "__main__":
    main()
