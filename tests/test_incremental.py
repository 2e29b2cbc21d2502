"""Incremental reindex: only changed files are read, and the result matches a full build."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from index import BuildOptions, build, incremental
from index import beside as beside_module
from index.analysis import english_term
from index.catalog import load_catalog, load_summary
from index.lexical import LexicalIndex, WordCounts
from index.mapped import StoredArray, npz_members
from index.related import RelatedLists
from index.store import current_build_dir
from search import Searcher, SearchRequest
from tests.conftest import ROOT, SAMPLE_POSTS, write_post

QUERIES = [
    "neural networks",
    '"sourdough starter"',
    "sourdough starter",
    "index funds",
    "hiking alps",
    "flask",
    "postgres full text search",
    "budget",
    "react hooks",
    '"neural network"',
    "",
]


class Recorder:
    """Keeps the sizes of the build stages (our own Progress protocol)."""

    def __init__(self) -> None:
        self.stages: dict[str, int] = {}

    def stage(self, name: str, total: int) -> None:
        self.stages[name] = total

    def advance(self, count: int = 1) -> None:
        pass


def change_corpus(posts: Path) -> None:
    """One modified, one added and one deleted post."""
    target = posts / "convolutional-networks-for-image-recognition.md"
    target.write_text(
        target.read_text(encoding="utf-8") + "\n\nA new section on capsule "
        "networks and equivariance in image recognition.\n",
        encoding="utf-8",
    )
    write_post(
        posts,
        "graph-neural-networks-intro.md",
        {
            "title": "Graph Neural Networks: Learning on Relationships",
            "date": "2024-09-01",
            "categories": [
                {"type": "general", "name": "Artificial Intelligence"},
                {"type": "medium", "name": "Machine Learning"},
                {"type": "specific", "name": "Neural Networks"},
                {"type": "niche", "name": "Graph Neural Networks"},
            ],
            "tags": ["neural networks", "graphs"],
        },
        "Graph neural networks pass messages between nodes. Each layer of the network "
        "aggregates neighbour features, so deep networks see wider neighbourhoods. Training "
        "uses backpropagation like any other neural network, with dropout and weight decay.",
    )
    (posts / "the-50-30-20-budget-rule.md").unlink()


@pytest.fixture(scope="module")
def twin_builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Recorder]:
    root = tmp_path_factory.mktemp("twins")
    posts = root / "posts"
    shutil.copytree(SAMPLE_POSTS, posts)
    build(posts, root / "incremental")
    change_corpus(posts)
    recorder = Recorder()
    with pytest.MonkeyPatch.context() as patch:  # the ranking matrix in its own process
        patch.setattr(beside_module, "PARALLEL_STEPS_FROM", 0)
        result = build(posts, root / "incremental", progress=recorder)
    assert result.mode == "incremental"
    assert (result.added, result.modified, result.deleted) == (1, 1, 1)
    full = build(posts, root / "full", BuildOptions(full=True))
    assert full.mode == "full"
    return root / "incremental" / "current", root / "full" / "current", recorder


def test_only_changed_files_are_parsed_and_indexed(twin_builds) -> None:
    _, _, recorder = twin_builds
    assert recorder.stages == {"parse": 2}


def test_catalog_and_tfidf_equal_a_full_build(twin_builds) -> None:
    incremental, full, _ = twin_builds
    assert load_catalog(incremental) == load_catalog(full)
    assert load_summary(incremental) == load_summary(full)  # carried rows spliced in
    a, b = sp.load_npz(incremental / "tfidf.npz"), sp.load_npz(full / "tfidf.npz")
    assert a.shape == b.shape and abs(a - b).max() < 1e-6
    counts_a, counts_b = sp.load_npz(incremental / "terms.npz"), sp.load_npz(full / "terms.npz")
    assert (counts_a != counts_b).nnz == 0


def test_ranking_matrix_equals_a_full_build(twin_builds) -> None:
    incremental, full, _ = twin_builds
    a, b = LexicalIndex.load(incremental), LexicalIndex.load(full)
    assert a.terms == b.terms and a.words == b.words
    assert (a.word_df == b.word_df).all()
    assert a.weights.shape == b.weights.shape and abs(a.weights - b.weights).max() < 1e-5
    assert (a.titles != b.titles).nnz == 0


def test_saved_english_terms_are_each_words_stem_in_both_builds(twin_builds) -> None:
    """Incremental builds reuse the saved stems, so they must be the analyzer's."""
    for build_dir in twin_builds[:2]:
        counts = WordCounts.load(build_dir)
        assert set(counts.stems) == set(counts.vocabulary)
        assert all(counts.stems[w] == english_term(w) for w in counts.vocabulary)
    assert "neighbour" in WordCounts.load(twin_builds[0]).stems  # a new post's word


def test_search_returns_what_a_full_build_returns(twin_builds) -> None:
    """Same posts, same order, same scores: the BM25F matrix is re-weighed from all word
    counts, and Whoosh (phrases and snippet text) keeps deleted documents out of answers."""
    incremental, full, _ = twin_builds
    with Searcher(incremental.parent) as left, Searcher(full.parent) as right:
        for q in QUERIES:
            a = left.search(SearchRequest(q=q, per_page=100))
            b = right.search(SearchRequest(q=q, per_page=100))
            assert a.total == b.total and a.facets == b.facets, q
            assert [h.slug for h in a.hits] == [h.slug for h in b.hits], q
            for x, y in zip(a.hits, b.hits, strict=True):
                assert x.score == pytest.approx(y.score, rel=1e-5), (q, x.slug)
                assert x.snippet == y.snippet, (q, x.slug)


def test_related_lists_equal_a_full_build_where_changes_reach(twin_builds) -> None:
    incremental, full, _ = twin_builds
    _assert_related_lists_agree(incremental, full)


def test_large_corpora_search_candidates_in_incremental_builds_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From APPROXIMATE_FROM posts, full builds find related candidates with top-n
    products over the strongest terms; incremental builds do the same (scoring every
    pair instead took 20-30 s at 57k posts and gave lists a full build would not)."""
    import index.related as related

    monkeypatch.setattr(related, "APPROXIMATE_FROM", 0)
    monkeypatch.setattr(related, "CANDIDATE_TERMS", 8)  # far from whole vectors
    posts = tmp_path / "posts"
    shutil.copytree(SAMPLE_POSTS, posts)
    first = build(posts, tmp_path / "incremental")
    # A full build computes every list, an incremental one a few: on either side of this.
    monkeypatch.setattr(related, "PAIRWISE_FROM", first.indexed - 1)
    change_corpus(posts)
    assert build(posts, tmp_path / "incremental").mode == "incremental"
    build(posts, tmp_path / "full", BuildOptions(full=True))
    incremental, full = tmp_path / "incremental" / "current", tmp_path / "full" / "current"
    _assert_related_lists_agree(incremental, full)
    mine, theirs = RelatedLists.load(incremental), RelatedLists.load(full)
    slugs = [r["slug"] for r in load_catalog(full)]
    for slug in ("graph-neural-networks-intro", "convolutional-networks-for-image-recognition"):
        row = slugs.index(slug)  # recomputed lists are scored exactly as the full build's
        assert np.abs(mine.text[row] - theirs.text[row]).max() < 1e-5, slug


def _assert_related_lists_agree(incremental: Path, full: Path) -> None:
    catalog = load_catalog(full)
    slugs = [r["slug"] for r in catalog]
    mine, theirs = RelatedLists.load(incremental), RelatedLists.load(full)
    new_post = slugs.index("graph-neural-networks-intro")
    changed = slugs.index("convolutional-networks-for-image-recognition")
    for row in (new_post, changed):
        assert mine.neighbours[row].tolist() == theirs.neighbours[row].tolist()
    holders = [row for row in range(len(slugs)) if new_post in theirs.neighbours[row][:10]]
    assert holders, "the new post should enter other posts' lists"
    for row in holders:
        assert new_post in mine.neighbours[row][:10], slugs[row]
    deleted_anywhere = "the-50-30-20-budget-rule" not in slugs
    assert deleted_anywhere
    same = sum(
        mine.neighbours[r].tolist() == theirs.neighbours[r].tolist() for r in range(len(slugs))
    )
    assert same >= 0.9 * len(slugs)
    assert np.allclose(mine.score, theirs.score, atol=0.02)


def _failing_rebuild_publishes_nothing(
    tmp_path: Path, break_a_step: Callable[[], None], error: type[BaseException], match: str
) -> None:
    """A full build of the sample posts, then an edit whose incremental build has a step
    broken by `break_a_step`: it must raise `error` and leave the served build alone."""
    posts = tmp_path / "posts"
    shutil.copytree(SAMPLE_POSTS, posts)
    build(posts, tmp_path / "index")
    served = current_build_dir(tmp_path / "index")
    change_corpus(posts)
    break_a_step()
    with pytest.raises(error, match=match):
        build(posts, tmp_path / "index")
    assert current_build_dir(tmp_path / "index") == served
    assert [p.name for p in (tmp_path / "index" / "builds").iterdir()] == [served.name]


@pytest.mark.parametrize("beside", [True, False])
def test_a_failing_step_publishes_nothing_in_either_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, beside: bool
) -> None:
    def broken(*args, **kwargs):
        raise MemoryError("the ranking matrix could not be weighed")

    def break_weighing() -> None:
        monkeypatch.setattr(beside_module, "PARALLEL_STEPS_FROM", 0 if beside else 10**9)
        monkeypatch.setattr(incremental, "weigh", broken)  # forked children inherit it

    _failing_rebuild_publishes_nothing(
        tmp_path, break_weighing, MemoryError, "could not be weighed"
    )


def test_a_failing_save_beside_the_related_step_publishes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TF-IDF is saved on a thread while the related lists are computed: its failure
    still stops the build."""
    from index.tfidf import TfidfModel

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    _failing_rebuild_publishes_nothing(
        tmp_path, lambda: monkeypatch.setattr(TfidfModel, "save", full_disk), OSError, "No space"
    )


def test_nothing_changed_rewrites_nothing(tmp_path: Path) -> None:
    write_post(tmp_path / "p", "a.md", {"title": "A"}, "alpha words")
    first = build(tmp_path / "p", tmp_path / "i")
    (tmp_path / "p" / "a.md").touch()  # a new mtime but the same bytes
    again = build(tmp_path / "p", tmp_path / "i")
    assert again.mode == "unchanged" and again.build_id == first.build_id


def test_a_post_that_breaks_or_becomes_a_draft_leaves_the_index(tmp_path: Path) -> None:
    posts = tmp_path / "p"
    for i in range(12):
        write_post(posts, f"p{i}.md", {"title": f"Post {i}"}, f"common words unique{i}")
    build(posts, tmp_path / "i")
    (posts / "p1.md").write_text("---\ntitle: [broken\n---\n", encoding="utf-8")
    result = build(posts, tmp_path / "i")
    assert result.mode == "incremental" and [e.path for e in result.skipped] == ["p1.md"]
    with Searcher(tmp_path / "i") as searcher:
        assert searcher.search(SearchRequest(q="unique1")).total == 0
        assert searcher.search(SearchRequest(q="unique2")).total == 1


def test_too_much_change_since_the_last_full_build_forces_a_full_build(tmp_path: Path) -> None:
    posts = tmp_path / "p"
    for i in range(20):
        write_post(posts, f"p{i}.md", {"title": f"Post {i}"}, f"words number{i}")
    build(posts, tmp_path / "i")
    write_post(posts, "p0.md", {"title": "Post 0"}, "changed once")
    assert build(posts, tmp_path / "i").mode == "incremental"
    write_post(posts, "p1.md", {"title": "Post 1"}, "changed twice")
    assert build(posts, tmp_path / "i").mode == "incremental"  # 2 of 20 = the 10 % bound
    write_post(posts, "p2.md", {"title": "Post 2"}, "changed thrice")
    assert build(posts, tmp_path / "i").mode == "full"


def test_an_incremental_build_counts_with_the_saved_stop_words(tmp_path: Path) -> None:
    """A full build saves the stop words its term counts leave out; an incremental build
    in a fresh interpreter counts its changed posts with them and never imports
    scikit-learn (about a second of a small incremental build)."""
    from index.tfidf import TermCounts, english_stop_words

    posts = tmp_path / "p"
    for i in range(12):
        write_post(posts, f"p{i}.md", {"title": f"Post {i}"}, f"kettles and words number{i}")
    build(posts, tmp_path / "i")
    saved = TermCounts.load(current_build_dir(tmp_path / "i"))
    assert saved.stop_words == english_stop_words() and "and" not in saved.vocabulary
    write_post(posts, "p0.md", {"title": "Post 0"}, "the kettle is on and the tea is brewing")
    script = f"""
import sys
from pathlib import Path
from index import build
print(build(Path({str(posts)!r}), Path({str(tmp_path / "i")!r})).mode)
print(any(name.startswith("sklearn") for name in sys.modules))
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.split()
    assert out == ["incremental", "False"]
    table = TermCounts.load(current_build_dir(tmp_path / "i"))
    assert "brewing" in table.vocabulary and not {"the", "is", "on"} & set(table.vocabulary)
    assert table.stop_words == saved.stop_words


def test_a_slug_clash_falls_back_to_a_full_build(tmp_path: Path) -> None:
    posts = tmp_path / "p"
    for i in range(12):
        write_post(posts, f"p{i}.md", {"title": f"Post {i}"}, f"words number{i}")
    build(posts, tmp_path / "i")
    write_post(posts, "z.md", {"title": "Clash", "slug": "p3"}, "clash")
    result = build(posts, tmp_path / "i")
    assert result.mode == "full"
    assert [(d.path, d.renamed_to) for d in result.duplicates] == [("z.md", "p3-2")]


def test_tfidf_from_counts_equals_scikit_learn() -> None:
    """Incremental builds rely on weighing stored counts exactly like a fresh fit."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from index.posts import load_posts
    from index.tfidf import count_terms, post_text, weigh_counts

    posts = load_posts(SAMPLE_POSTS).posts
    model = weigh_counts(count_terms(posts))
    reference = TfidfVectorizer(
        sublinear_tf=True,
        strip_accents="unicode",
        stop_words="english",
        max_df=0.5,
        dtype=np.float32,
    )
    expected = reference.fit_transform([post_text(p) for p in posts])
    assert model.vocabulary == reference.get_feature_names_out().tolist()
    assert abs(model.matrix - expected).max() < 1e-6


@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=80))
@settings(max_examples=300, deadline=None)
def test_text_is_folded_exactly_as_scikit_learn_strips_accents(text: str) -> None:
    from sklearn.feature_extraction.text import strip_accents_unicode

    from index.tfidf import fold_text

    assert fold_text(text) == strip_accents_unicode(text.lower())
    assert fold_text("Crème Brûlée, ÅNGSTRÖM, naïve") == "creme brulee, angstrom, naive"


_TERM_TEXT = st.lists(
    st.sampled_from(
        [
            "the",
            "The",
            "data",
            "DATA",
            "Crème",
            "naïve",
            "x",
            "a1",
            "_id",
            "node.js",
            "ÅNGSTRÖM",
            "über",
            "über-cool",
            "it's",
            "l'été",
            "42",
            "ﬁle",
            "İstanbul",
            "\n",
            " ",
            ", ",
            "—",
        ]
    ),  # fmt: skip
    max_size=40,
).map(" ".join)


@given(st.lists(_TERM_TEXT, min_size=1, max_size=6))
@settings(max_examples=200, deadline=None)
def test_term_counts_equal_scikit_learns_count_vectorizer(bodies: list[str]) -> None:
    """count_terms counts with Counter, not scikit-learn's loop: the counts must agree."""
    from sklearn.feature_extraction.text import CountVectorizer

    from index.posts import Post
    from index.tfidf import count_terms, fold_text, post_text

    posts = [
        Post(f"p{i}", "", f"p{i}.md", None, excerpt="", body_text=b, content_hash="")
        for i, b in enumerate(bodies)
    ]
    counted = count_terms(posts)
    counter = CountVectorizer(stop_words="english", preprocessor=fold_text, dtype=np.int32)
    try:
        expected = counter.fit_transform([post_text(p) for p in posts]).tocsr()
    except ValueError:  # no countable term at all
        assert counted.vocabulary == [] and counted.counts.shape == (len(posts), 0)
        return
    assert counted.vocabulary == counter.get_feature_names_out().tolist()
    assert counted.counts.has_sorted_indices
    assert (counted.counts != expected).nnz == 0 and counted.counts.dtype == np.int32


@pytest.mark.parametrize(
    ("name", "member", "beside"),
    [
        ("words.npz", "text_data", True),
        ("words.npz", "title_data", False),
        ("terms.npz", "data", False),
    ],
)
def test_a_damaged_count_table_makes_the_next_reindex_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, member: str, beside: bool
) -> None:
    """A count table damaged without changing its size passes the size check that
    allows an incremental build; reading it fails its CRC-32, so the reindex rebuilds
    in full instead of failing until someone runs --full (in either process)."""
    monkeypatch.setattr(beside_module, "PARALLEL_STEPS_FROM", 0 if beside else 10**9)
    posts = tmp_path / "p"
    shutil.copytree(SAMPLE_POSTS, posts)
    build(posts, tmp_path / "i")
    table = current_build_dir(tmp_path / "i") / name
    stored = npz_members(table)[member]
    assert isinstance(stored, StoredArray)
    raw = bytearray(table.read_bytes())
    raw[stored.offset] ^= 0xFF
    table.write_bytes(bytes(raw))
    post = next(iter(sorted(posts.glob("*.md"))))
    post.write_text(post.read_text(encoding="utf-8") + "\nA kettle sings.\n", encoding="utf-8")
    result = build(posts, tmp_path / "i")
    assert result.mode == "full"
    with Searcher(tmp_path / "i") as searcher:
        assert searcher.search(SearchRequest(q="kettle")).total >= 1
