"""bench.related (issue 4) runs end to end on a small corpus and never leaks pins."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.related import METRICS, copy_without_pins, scores_of
from tests.conftest import ROOT, write_post

SYSTEMS = {"postsearch", "random", "recent", "jaccard", "hugo", "tfidf", "whoosh_mlt"}
TOPICS = {
    "bees": "hive honey queen drones wax pollen swarm",
    "bread": "flour yeast dough oven crust knead proof",
    "boats": "hull sail mast keel anchor rudder tide",
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Twelve posts on three topics. Every post pins (and the truth names) the two oldest
    posts of *another* topic: if the pins leaked into the build, postsearch would find
    them; from the text alone it never should."""
    root = tmp_path_factory.mktemp("bench")
    posts, truth = root / "posts", {}
    names = {
        topic: [f"2024-0{i + 1}-0{n + 1}-{topic}-{n}.md" for n in range(4)]
        for i, topic in enumerate(TOPICS)
    }
    order = list(TOPICS)
    for topic, files in names.items():
        other = names[order[(order.index(topic) + 1) % 3]][:2]
        for n, name in enumerate(files):
            words = TOPICS[topic].split()
            body = " ".join(words[n : n + 4])  # overlapping, never near-duplicates
            write_post(
                posts,
                name,
                {"title": f"{topic} {n}", "tags": [topic], "related": other, "relatedPosts": other},
                body,
            )
            truth[name] = other
    (root / "truth.json").write_text(json.dumps(truth), encoding="utf-8")
    return posts, root / "truth.json"


def test_pin_fields_are_stripped_from_the_copy(corpus, tmp_path: Path) -> None:
    posts, _ = corpus
    stripped, kept = copy_without_pins(
        posts, tmp_path / "copy", {"related", "relatedPosts", "tags"}
    )
    assert (stripped, kept) == (12, 0)
    for path in (tmp_path / "copy").glob("*.md"):
        text = path.read_text(encoding="utf-8")
        assert "related" not in text and "tags" not in text and "title" in text


def test_bench_reports_every_system_and_no_leak(corpus) -> None:
    posts, truth = corpus
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.related",
            "--posts",
            str(posts),
            "--truth",
            str(truth),
            "--json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(report) == SYSTEMS
    for values in report.values():
        assert set(values) == {*METRICS, *(f"{m}_before" for m in METRICS)}
        assert all(0.0 <= v <= 1.0 for v in values.values())
    # The truth is another topic's posts: text and tags cannot find them, pins would.
    assert report["postsearch"]["recall@5"] == 0.0 and report["tfidf"]["recall@5"] == 0.0
    assert (
        "12 posts judged" in result.stdout and "pin fields stripped from 12 of 12" in result.stdout
    )


def test_metrics_of_one_list() -> None:
    scores = scores_of([5, 1, 7], {1, 9})
    assert scores["recall@5"] == scores["recall@10"] == 0.5
    assert scores["mrr@10"] == 0.5
    assert scores["ndcg@10"] == pytest.approx((1 / 1.5849625) / (1 + 1 / 1.5849625))


def test_tuner_cross_validates_on_the_small_corpus(corpus, tmp_path: Path) -> None:
    from bench.related_tune import GRID, Blog, tune

    posts, truth = corpus
    result = tune([Blog("small", posts, truth, tmp_path)], folds=2, seed=0)
    assert set(result) == {
        "cross_validated",
        "chosen_per_fold",
        "tuned_on_one_blog",
        "defaults",
        "sensitivity",
    }
    assert 0.0 <= result["cross_validated"]["small"] <= 1.0
    assert len(result["chosen_per_fold"]) == 2 and set(result["chosen_per_fold"][0]) == set(GRID)
    assert len(result["sensitivity"]) == sum(len(values) for values in GRID.values())
