"""In-process latency of the search box and related calls on the real blogs, side by side.

    python -m bench.search_latency [--blogs 18f auth0 digitalgov] [--repeat 3]

Builds each blog once (timing the build), then runs fixed query mixes through the
calls the API makes: `Searcher.search` (top 10 with snippets and facets), the same
with misspelled words (corrected), with the last word as a prefix (as you type),
`Searcher.suggest`, and `Searcher.related`; prints medians and 95th percentiles.
Speed is measured here, never in tests.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from index import build
from search import Searcher, SearchRequest

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "blogs"
QUERIES = [
    "",
    "security",
    "design",
    "data",
    "open source",
    "user research",
    "cloud migration",
    "accessibility testing",
    "how do agencies write plain language content for the public",
    "api authentication tokens",
    "agile acquisition contracts",
    '"user experience"',
    "mobile apps",
    "javascript",
    "analytics dashboard",
    "recruiting engineers",
]


TYPOS = [
    "secuirty",
    "acessibility testing",
    "javascirpt",
    "analytics dashbaord",
    "recruting engineers",
    "user reserch",
    "clodu migration",
    "authentcation tokens",
]
PREFIXES = ["s", "se", "sec", "acc", "user re", "cloud mig", "api auth", "jav", "plain lang"]


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of the values fall (0 for no values)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def measure(blog: str, repeat: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        result = build(SHARED / blog / "posts", Path(tmp))
        build_s = time.perf_counter() - started
        with Searcher(Path(tmp), cache_entries=0) as searcher:  # compute, not cache hits
            searcher.search(SearchRequest(q="warm up"))
            searcher.search(SearchRequest(q="wrm upp"))  # loads the speller once
            slugs = [p["slug"] for p in searcher.current().posts[:200]]
            calls = {
                "search": [lambda q=q: searcher.search(SearchRequest(q=q)) for q in QUERIES],
                "corrected": [lambda q=q: searcher.search(SearchRequest(q=q)) for q in TYPOS],
                "prefix": [
                    lambda q=q: searcher.search(SearchRequest(q=q, prefix=True)) for q in PREFIXES
                ],
                "suggest": [lambda q=q: searcher.suggest(q) for q in PREFIXES],
                "related": [lambda s=s: searcher.related(s, 5) for s in slugs],
            }
            times: dict[str, list[float]] = {name: [] for name in calls}
            for _ in range(repeat):
                for name, functions in calls.items():
                    for function in functions:
                        started = time.perf_counter()
                        function()
                        times[name].append((time.perf_counter() - started) * 1000)
    row = {"posts": result.indexed, "build_s": build_s, "posts_per_s": result.files / build_s}
    for name, values in times.items():
        row[f"{name}_p50"] = statistics.median(values)
        row[f"{name}_p95"] = percentile(values, 0.95)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blogs", nargs="+", default=["18f", "auth0", "digitalgov"])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    calls = ("search", "corrected", "prefix", "suggest", "related")
    print(
        f"{'blog':<12} {'posts':>6} {'build s':>8} {'posts/s':>8}  "
        + "  ".join(f"{name + ' p50/p95 ms':>22}" for name in calls)
    )
    for blog in args.blogs:
        row = measure(blog, args.repeat)
        cells = "  ".join(
            f"{row[name + '_p50']:>10.2f} / {row[name + '_p95']:>9.2f}" for name in calls
        )
        print(
            f"{blog:<12} {row['posts']:>6} {row['build_s']:>8.1f} {row['posts_per_s']:>8.0f}  "
            + cells
        )


if __name__ == "__main__":
    main()
