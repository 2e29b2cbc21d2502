"""A guard on ranking quality: a fixed slice of BEIR SciFact must keep its nDCG@10.

The slice is deterministic (the first QUERIES judged train queries by id, every
document judged for them, and every STRIDE-th other document), built with the real
reindex code and searched through the same `Searcher.search` call as /api/search.
The floors sit a little under what this ranking measured when they were set, so a
change that silently breaks ranking (an analyzer, a field, a weight) fails here, while
the full comparison with peers stays in `python -m bench.quality`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.quality import load_beir, write_posts
from index import build
from search import Searcher, SearchRequest
from tests.conftest import shared_dir

QUERIES = 80
STRIDE = 4
# Measured when set: nDCG@10 0.711, Recall@100 0.938 on this slice (Whoosh's own
# BM25F over separate fields, the ranking before, is ~0.03 lower on SciFact).
NDCG_FLOOR = 0.69
RECALL_FLOOR = 0.91


@pytest.fixture(scope="module")
def scifact_slice(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Searcher, dict]]:
    data = load_beir(shared_dir("data", "beir", "scifact"), "train", None)
    chosen = sorted(data.queries, key=lambda q: (len(q), q))[:QUERIES]
    judged = {doc for q in chosen for doc in data.qrels[q]}
    others = sorted(doc for doc in data.docs if doc not in judged)[::STRIDE]
    docs = {doc: data.docs[doc] for doc in sorted(judged | set(others))}
    root = tmp_path_factory.mktemp("scifact")
    (root / "posts").mkdir()
    slugs = write_posts(docs, root / "posts")
    build(root / "posts", root / "index")
    queries = {q: data.queries[q] for q in chosen}
    qrels = {q: data.qrels[q] for q in chosen}
    with Searcher(root / "index") as searcher:
        yield searcher, {"slugs": slugs, "queries": queries, "qrels": qrels}


def ndcg_at_10(ranked: list[str], judged: dict[str, int]) -> float:
    """nDCG@10 with graded gains (2^rel - 1), as trec_eval computes it."""
    gains = [2 ** judged.get(doc, 0) - 1 for doc in ranked[:10]]
    dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains))
    ideal = sorted((2**r - 1 for r in judged.values()), reverse=True)[:10]
    best = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / best if best else 0.0


def test_scifact_slice_keeps_its_ranking_quality(scifact_slice) -> None:
    searcher, data = scifact_slice
    ndcgs, recalls = [], []
    for qid, text in data["queries"].items():
        page = searcher.search(SearchRequest(q=text, per_page=100))
        ranked = [data["slugs"][hit.slug] for hit in page.hits]
        assert ranked, f"query {qid} found nothing"
        judged = data["qrels"][qid]
        ndcgs.append(ndcg_at_10(ranked, judged))
        relevant = {doc for doc, rel in judged.items() if rel > 0}
        recalls.append(len(relevant & set(ranked[:100])) / len(relevant))
    ndcg, recall = sum(ndcgs) / len(ndcgs), sum(recalls) / len(recalls)
    assert ndcg >= NDCG_FLOOR, f"nDCG@10 fell to {ndcg:.3f}"
    assert recall >= RECALL_FLOOR, f"Recall@100 fell to {recall:.3f}"


def test_the_guard_can_fail() -> None:
    """The measure itself: a perfect list scores 1, a list of misses 0."""
    judged = {"a": 1, "b": 2}
    assert ndcg_at_10(["b", "a"], judged) == pytest.approx(1.0)
    assert ndcg_at_10(["x", "y"], judged) == 0.0
    assert 0 < ndcg_at_10(["a", "x", "b"], judged) < 1


def test_bench_slugs_cover_every_document(tmp_path: Path) -> None:
    docs = {"Doc/1": ("T", "x"), "doc-1": ("T", "y"), "": ("", "z")}
    slugs = write_posts(docs, tmp_path)
    assert sorted(slugs.values()) == sorted(docs) and len(list(tmp_path.iterdir())) == 3
