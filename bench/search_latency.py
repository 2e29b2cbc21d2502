"""In-process latency of search and related calls on the real blogs, side by side.

    python -m bench.search_latency [--blogs 18f auth0 digitalgov] [--repeat 3]

Builds each blog once (timing the build), then runs a fixed query mix through
`Searcher.search` (top 10 with snippets and facets) and `Searcher.related`, and prints
medians and 95th percentiles. Speed is measured here, never in tests.
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


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def measure(blog: str, repeat: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        result = build(SHARED / blog / "posts", Path(tmp))
        build_s = time.perf_counter() - started
        with Searcher(Path(tmp)) as searcher:
            searcher.search(SearchRequest(q="warm up"))
            search_ms, related_ms = [], []
            slugs = [p["slug"] for p in searcher.current().posts[:200]]
            for _ in range(repeat):
                for q in QUERIES:
                    t = time.perf_counter()
                    searcher.search(SearchRequest(q=q))
                    search_ms.append((time.perf_counter() - t) * 1000)
                for slug in slugs:
                    t = time.perf_counter()
                    searcher.related(slug, 5)
                    related_ms.append((time.perf_counter() - t) * 1000)
    return {
        "posts": result.indexed,
        "build_s": build_s,
        "posts_per_s": result.files / build_s,
        "search_p50": statistics.median(search_ms),
        "search_p95": percentile(search_ms, 0.95),
        "related_p50": statistics.median(related_ms),
        "related_p95": percentile(related_ms, 0.95),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blogs", nargs="+", default=["18f", "auth0", "digitalgov"])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(
        f"{'blog':<12} {'posts':>6} {'build s':>8} {'posts/s':>8} {'search p50':>11} "
        f"{'p95 ms':>7} {'related p50':>12} {'p95 ms':>7}"
    )
    for blog in args.blogs:
        row = measure(blog, args.repeat)
        print(
            f"{blog:<12} {row['posts']:>6} {row['build_s']:>8.1f} {row['posts_per_s']:>8.0f} "
            f"{row['search_p50']:>11.1f} {row['search_p95']:>7.1f} "
            f"{row['related_p50']:>12.3f} {row['related_p95']:>7.3f}"
        )


if __name__ == "__main__":
    main()
