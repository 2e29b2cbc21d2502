"""How close are our related lists to the ones authors picked by hand? (auth0 blog)

    python -m bench.related_quality [--blog auth0]

Parses the blog once, fits TF-IDF once, then scores each variant of the related
settings side by side: recall@5 (share of the author's picks in our top 5), MRR of
the first author pick, and coverage (posts with at least one pick in the top 10).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

from index.build import resolve_duplicate_slugs
from index.posts import load_posts
from index.related import RelatedSettings, compute_related
from index.tfidf import fit_tfidf

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "blogs"

VARIANTS = {
    "text only": RelatedSettings(text_weight=1.0, taxonomy_weight=0.0),
    "taxonomy only": RelatedSettings(text_weight=0.0, taxonomy_weight=1.0),
    "default": RelatedSettings(),
    "default, shared labels only": RelatedSettings(count_unshared_labels=False),
    "text 0.8 / taxonomy 0.2": RelatedSettings(text_weight=0.8, taxonomy_weight=0.2),
    "text 0.5 / taxonomy 0.5": RelatedSettings(text_weight=0.5, taxonomy_weight=0.5),
}


def evaluate(blog: str) -> list[dict[str, object]]:
    """Score every variant against `related-truth.json` of one blog."""
    folder = SHARED / blog
    truth = json.loads((folder / "related-truth.json").read_text())
    report = load_posts(folder / "posts")
    posts, _ = resolve_duplicate_slugs([p for p in report.posts if not p.draft])
    row_of_path = {p.path: i for i, p in enumerate(posts)}
    _, model = fit_tfidf(posts)
    rows = []
    for name, settings in VARIANTS.items():
        started = time.perf_counter()
        lists = compute_related(posts, model.matrix, dataclasses.replace(settings))
        seconds = time.perf_counter() - started
        recalls, reciprocal, covered, judged = [], [], 0, 0
        for source, picks in truth.items():
            wanted = {row_of_path[p] for p in picks if p in row_of_path}
            if source not in row_of_path or not wanted:
                continue
            judged += 1
            ours = [int(x) for x in lists.neighbours[row_of_path[source]] if x >= 0]
            recalls.append(len(wanted & set(ours[:5])) / min(5, len(wanted)))
            rank = next((i + 1 for i, x in enumerate(ours) if x in wanted), None)
            reciprocal.append(1 / rank if rank else 0.0)
            covered += bool(wanted & set(ours[:10]))
        rows.append(
            {
                "variant": name,
                "recall@5": sum(recalls) / judged,
                "mrr": sum(reciprocal) / judged,
                "coverage@10": covered / judged,
                "posts_judged": judged,
                "seconds": seconds,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blog", default="auth0")
    args = parser.parse_args()
    rows = evaluate(args.blog)
    print(f"{'variant':<30} {'recall@5':>9} {'MRR':>7} {'cov@10':>7} {'s':>6}")
    for row in rows:
        print(
            f"{row['variant']:<30} {row['recall@5']:>9.3f} {row['mrr']:>7.3f} "
            f"{row['coverage@10']:>7.3f} {row['seconds']:>6.2f}"
        )
    print(f"({rows[0]['posts_judged']} posts with author picks)")


if __name__ == "__main__":
    main()
