"""Related lists (issue 4): adaptive taxonomy weight, older-post prior, diversity, ties.

Every test builds a real index in a temporary folder and reads it back through the
Searcher or the `postsearch` command.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from api.cli import main
from index import BuildOptions, build
from index.catalog import load_catalog
from index.related import (
    RelatedSettings,
    label_informativeness,
    taxonomy_weight,
    time_prior,
)
from search import Searcher
from tests.conftest import write_post


def record(slug: str, categories=(), tags=(), date=None) -> dict:
    return {
        "slug": slug,
        "date": date,
        "categories": [{"name": c, "level": "unknown"} for c in categories],
        "tags": list(tags),
        "keywords": [],
    }


def test_six_coarse_categories_get_less_weight_than_a_rich_tag_vocabulary() -> None:
    coarse = [record(f"p{i}", categories=[f"Topic {i % 6}"]) for i in range(60)]
    rich = [record(f"p{i}", tags=[f"tag {i // 2}"]) for i in range(60)]
    assert label_informativeness(coarse) == pytest.approx(math.log(6) / math.log(60))
    assert label_informativeness(rich) == pytest.approx(math.log(30) / math.log(60))
    settings = RelatedSettings()
    assert taxonomy_weight(coarse, settings) < 0.36 < 0.66 < taxonomy_weight(rich, settings)
    # No labels at all: text decides alone. A fixed weight overrides the adaptive one.
    assert taxonomy_weight([record("a"), record("b")], settings) == 0.0
    assert taxonomy_weight(coarse, RelatedSettings(taxonomy_weight=0.5)) == 0.5


def test_spelling_variants_of_a_tag_are_one_label() -> None:
    posts = [record("a", tags=["Single-Sign-On"]), record("b", tags=["single sign on"])]
    posts += [record(f"x{i}", tags=[f"other {i}"]) for i in range(4)]
    # Two posts share the label: its rarity is log(6 / 2) / log(6) for both.
    assert label_informativeness(posts) == pytest.approx(
        (2 * math.log(3) + 4 * math.log(6)) / (6 * math.log(6))
    )


def test_time_prior_prefers_older_posts_and_fades_with_the_gap() -> None:
    settings = RelatedSettings()
    days = [100.0, 90.0, 10.0, 110.0, float("nan")]
    prior = time_prior(100.0, __import__("numpy").array(days), settings)
    same_day, recent_older, long_older, newer, undated = prior
    assert same_day == pytest.approx(2.0)
    assert same_day > recent_older > long_older > 1.0
    assert newer == pytest.approx((1 + math.exp(-10 / 180)) * 0.4, rel=1e-5)
    assert undated == 1.0
    off = RelatedSettings(closeness_bonus=0.0, newer_discount=0.0)
    assert set(time_prior(100.0, __import__("numpy").array(days), off)) == {1.0}


@pytest.fixture(scope="module")
def timeline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`source` shares its two tags with three posts that share no word with it: one a
    month older, one a month newer, one four years older. Fillers make the tags rare."""
    posts = tmp_path_factory.mktemp("timeline") / "posts"
    tags = ["otters", "estuaries"]
    write_post(
        posts,
        "source.md",
        {"title": "Source", "date": "2024-06-01", "tags": tags},
        "Kelp canopy survey notes.",
    )
    write_post(
        posts,
        "a-newer.md",
        {"title": "Later", "date": "2024-07-01", "tags": tags},
        "Volunteer rota spreadsheet.",
    )
    write_post(
        posts,
        "b-older.md",
        {"title": "Earlier", "date": "2024-05-01", "tags": tags},
        "Grant paperwork deadlines.",
    )
    write_post(
        posts,
        "c-oldest.md",
        {"title": "Long ago", "date": "2020-05-01", "tags": tags},
        "Boat engine maintenance log.",
    )
    for i in range(8):
        write_post(
            posts,
            f"filler{i}.md",
            {"title": f"Filler {i}", "date": "2022-01-01", "tags": [f"misc{i}"]},
            f"Unrelated filler text number {i}.",
        )
    return posts


def related_of(posts: Path, index_dir: Path, settings: RelatedSettings, slug: str) -> list:
    build(posts, index_dir, BuildOptions(related=settings))
    with Searcher(index_dir) as searcher:
        return [r for r in searcher.related(slug, 3).results if r.score > 0]


def test_older_post_prior_is_a_setting(timeline: Path, tmp_path: Path) -> None:
    ranked = related_of(timeline, tmp_path / "default", RelatedSettings(), "source")
    assert [r.slug for r in ranked] == ["b-older", "c-oldest", "a-newer"]
    assert ranked[0].score_parts["taxonomy"] == ranked[2].score_parts["taxonomy"] > 0
    assert ranked[0].score_parts["time"] > ranked[1].score_parts["time"] > 1.0
    assert {"kind": "time", "factor": ranked[0].score_parts["time"]} in ranked[0].reasons
    off = RelatedSettings(closeness_bonus=0.0, newer_discount=0.0)
    flat = related_of(timeline, tmp_path / "off", off, "source")
    # Equal scores without the prior: ties break on slug.
    assert [r.slug for r in flat] == ["a-newer", "b-older", "c-oldest"]
    assert len({r.score for r in flat}) == 1


def test_served_score_is_the_documented_blend(timeline: Path, tmp_path: Path) -> None:
    build(timeline, tmp_path / "i")
    records = load_catalog(tmp_path / "i" / "current")
    weight = taxonomy_weight(records, RelatedSettings())
    with Searcher(tmp_path / "i") as searcher:
        for result in searcher.related("source", 3).results:
            parts = result.score_parts
            blend = (1 - weight) * parts["text"] + weight * parts["taxonomy"]
            assert result.score == pytest.approx(blend * parts["time"], abs=2e-4)


NEAR_TEXT = (
    "Sourdough starter care: feed the starter flour and water daily, keep it warm, "
    "discard half before feeding, and watch the bubbles rise and fall. "
)


@pytest.fixture(scope="module")
def duplicated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`original` and `copy` are the same post (one sentence added); `guide` is on the
    same topic in other words; `question` links them all by topic."""
    posts = tmp_path_factory.mktemp("dups") / "posts"
    write_post(posts, "original.md", {"title": "Starter care", "date": "2023-01-01"}, NEAR_TEXT * 3)
    write_post(
        posts,
        "copy.md",
        {"title": "Starter care", "date": "2023-02-01"},
        NEAR_TEXT * 3 + "Republished for the new year.",
    )
    write_post(
        posts,
        "guide.md",
        {"title": "Feeding a starter", "date": "2023-03-01"},
        "A starter needs flour and water; bubbles show it is alive and warm.",
    )
    write_post(
        posts,
        "question.md",
        {"title": "Why is my starter flat?", "date": "2023-04-01"},
        "My sourdough starter has no bubbles after feeding flour and water.",
    )
    topics = ("Quarterly invoices", "Parking permits", "Library fines", "Garden hoses")
    for i, topic in enumerate(topics):
        write_post(
            posts, f"filler{i}.md", {"title": topic, "date": f"2022-01-0{i + 1}"}, topic + "."
        )
    build(posts, posts.parent / "index")
    return posts


@pytest.fixture(scope="module")
def duplicated_inputs(duplicated: Path) -> tuple:
    """The catalog records and TF-IDF matrix of the `duplicated` build, for calling
    compute_related directly."""
    import scipy.sparse as sp

    from index.catalog import load_catalog
    from index.store import current_build_dir

    build_dir = current_build_dir(duplicated.parent / "index")
    return load_catalog(build_dir), sp.load_npz(build_dir / "tfidf.npz")


def test_two_near_duplicates_are_never_in_one_list(duplicated: Path, tmp_path: Path) -> None:
    with Searcher(duplicated.parent / "index") as searcher:
        for slug in ("question", "guide", "filler0"):
            listed = {r.slug for r in searcher.related(slug, 10).results}
            assert not {"original", "copy"} <= listed, slug
        scored = [r.slug for r in searcher.related("question", 10).results if r.score > 0]
        assert "guide" in scored and len({"original", "copy"} & set(scored)) == 1
    off = BuildOptions(related=RelatedSettings(duplicate_threshold=1.01))
    build(duplicated, tmp_path / "off", off)
    with Searcher(tmp_path / "off") as searcher:
        assert {"original", "copy"} <= {r.slug for r in searcher.related("question", 10).results}


def test_duplicates_command_lists_the_pair(duplicated: Path) -> None:
    index_dir = str(duplicated.parent / "index")
    result = CliRunner().invoke(main, ["duplicates", "--index", index_dir])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    similarity, first, _, second, _ = lines[0].split()
    assert float(similarity) >= 0.85 and {first, second} == {"original", "copy"}
    assert "1 pair(s) of near-duplicates at >= 0.85 among 8 posts" in result.stderr
    as_json = CliRunner().invoke(main, ["duplicates", "--index", index_dir, "--json"])
    pair = json.loads(as_json.stdout)
    assert [p["path"] for p in pair["posts"]] == ["copy.md", "original.md"]
    strict = CliRunner().invoke(main, ["duplicates", "--index", index_dir, "--threshold", "1"])
    assert strict.exit_code == 0 and strict.stdout == ""
    for bad in ("0", "1.5", "x"):
        assert (
            CliRunner()
            .invoke(main, ["duplicates", "--index", index_dir, "--threshold", bad])
            .exit_code
            == 2
        )


def test_duplicates_command_without_a_build(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["duplicates", "--index", str(tmp_path / "none")])
    assert result.exit_code == 1 and "no build" in result.stderr


def test_short_lists_fill_to_limit_with_labelled_recent_posts(duplicated: Path) -> None:
    with Searcher(duplicated.parent / "index") as searcher:
        results = searcher.related("filler0", 7).results
    # Every other visible post but one of the near-duplicate pair.
    assert len(results) == 6 and len({"original", "copy"} & {r.slug for r in results}) == 1
    fallback = [r for r in results if r.score == 0]
    assert fallback and all(r.reasons[0]["kind"] == "recent" for r in fallback)
    assert fallback[0].reason == "Recent post"
    dates = [r.date for r in fallback]
    assert dates == sorted(dates, reverse=True)


def test_a_build_from_before_pins_and_the_prior_still_serves(
    timeline: Path, tmp_path: Path
) -> None:
    """Deploying this code must not break the build being served until the next reindex."""
    import numpy as np

    result = build(timeline, tmp_path / "i")
    path = result.build_dir / "related.npz"
    with np.load(path, allow_pickle=False) as data:
        old = {name: data[name] for name in ("neighbours", "score", "text", "taxonomy")}
    np.savez(path, **old)
    (result.build_dir / "manifest.json").write_text(
        json.dumps(_rehash(result.build_dir)), encoding="utf-8"
    )
    with Searcher(tmp_path / "i") as searcher:
        results = searcher.related("source", 3).results
    assert [r.slug for r in results][:1] == ["b-older"]
    assert all(r.score_parts["time"] == 1.0 for r in results)


def _rehash(build_dir: Path) -> dict:
    from index.manifest import describe_artifacts

    manifest = json.loads((build_dir / "manifest.json").read_text(encoding="utf-8"))
    manifest["artifacts"] = describe_artifacts(build_dir)
    return manifest


def test_near_duplicates_found_per_list_or_for_all_pairs_give_the_same_lists(
    duplicated_inputs: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Full builds find every near-duplicate pair at once, incremental ones per list."""
    inputs = (monkeypatch, *duplicated_inputs)
    per_list = _lists_with(*inputs, PAIRWISE_FROM=10**9)
    all_pairs = _lists_with(*inputs, PAIRWISE_FROM=0)
    assert (per_list.neighbours == all_pairs.neighbours).all()


def test_scouting_by_strongest_terms_finds_every_near_duplicate_pair() -> None:
    """Builds scout pairs over each post's strongest terms; `postsearch duplicates`
    compares every pair. Planted near-copies among random posts: the same pairs."""
    import numpy as np
    import scipy.sparse as sp

    from index.duplicates import find_near_duplicates
    from index.tfidf import l2_normalise

    rng = np.random.default_rng(7)
    originals = sp.random(400, 3000, density=0.05, random_state=rng, dtype=np.float32)
    copies = originals.tocsr()[:40].copy()
    copies.data *= rng.uniform(0.7, 1.3, copies.data.size).astype(np.float32)  # edits
    matrix = l2_normalise(sp.vstack([originals, copies]).tocsr())
    exhaustive = find_near_duplicates(matrix, 0.85)
    scouted = find_near_duplicates(matrix, 0.85, exhaustive=False)
    assert len(exhaustive) >= 40
    assert [(p.first, p.second) for p in scouted] == [(p.first, p.second) for p in exhaustive]


@pytest.mark.parametrize("threads", [1, 2])
def test_the_compiled_pair_search_finds_the_pairs_of_the_top_n_product(
    monkeypatch: pytest.MonkeyPatch, threads: int
) -> None:
    """Large corpora find pairs with a compiled loop that computes each pair once (in
    two spans of rows on two threads); small ones with a top-n product. Random posts,
    some sharing many terms, planted near-copies, and thresholds from loose (many
    pairs, and rows past the product's cap) to strict: the same pairs either way."""
    import numpy as np
    import scipy.sparse as sp

    from index import duplicates
    from index.tfidf import l2_normalise

    rng = np.random.default_rng(3)
    originals = sp.random(500, 400, density=0.04, random_state=rng, dtype=np.float32)
    copies = originals.tocsr()[rng.choice(500, 60)].copy()
    copies.data *= rng.uniform(0.8, 1.2, copies.data.size).astype(np.float32)
    matrix = l2_normalise(sp.vstack([originals, copies]).tocsr())
    monkeypatch.setattr(duplicates, "_THREADS", threads)
    for threshold in (0.02, 0.3, 0.85, 1.0):  # at 0.02 some posts have 256+ pairs
        found = {}
        for compiled_from in (10**9, 0):
            monkeypatch.setattr(duplicates, "COMPILED_PAIRS_FROM", compiled_from)
            for exhaustive in (True, False):
                pairs = duplicates.find_near_duplicates(matrix, threshold, exhaustive)
                found[compiled_from, exhaustive] = {
                    (p.first, p.second): p.similarity for p in pairs
                }
        for exhaustive in (True, False):
            by_product, by_loop = found[10**9, exhaustive], found[0, exhaustive]
            assert by_loop.keys() == by_product.keys(), (threshold, exhaustive)
            assert all(abs(by_loop[k] - by_product[k]) < 1e-6 for k in by_loop)
        assert threshold > 0.9 or len(found[0, True]) > 60


def test_lists_over_the_strongest_terms_equal_whole_vectors_when_all_terms_fit(
    duplicated_inputs: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Large corpora compare posts by their strongest terms; with room for every term
    that is exactly the whole-vector comparison."""
    inputs = (monkeypatch, *duplicated_inputs)
    whole = _lists_with(*inputs, PAIRWISE_FROM=0)
    strongest = _lists_with(*inputs, APPROXIMATE_FROM=0, CANDIDATE_TERMS=10**6)
    assert (strongest.neighbours == whole.neighbours).all()
    assert (abs(strongest.score - whole.score) < 1e-6).all()
    few = _lists_with(*inputs, CANDIDATE_TERMS=2)
    assert (few.neighbours != whole.neighbours).any()  # the setting is in effect


def test_lists_computed_by_two_processes_equal_one_process(
    duplicated_inputs: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    records, matrix = duplicated_inputs
    alone = _lists_with(monkeypatch, records, matrix, PARALLEL_FROM=10**9)
    done: list[int] = []
    shared = _lists_with(monkeypatch, records, matrix, on_rows=done.append, PARALLEL_FROM=2)
    assert sum(done) == len(records) and len(done) == len(records)  # runs of one row here
    for name in ("neighbours", "score", "text", "taxonomy", "time", "pinned"):
        assert (getattr(shared, name) == getattr(alone, name)).all(), name


@pytest.fixture(scope="module")
def random_corpus() -> tuple:
    """600 posts over four years: random labels from a small pool and random TF-IDF
    rows (enough posts that small candidate pools leave some out)."""
    import numpy as np
    import scipy.sparse as sp

    from index.tfidf import l2_normalise

    rng = np.random.default_rng(11)
    records = [
        {
            "slug": f"post-{i:03d}",
            "date": f"{2020 + i % 4}-{1 + i % 12:02d}-{1 + i % 28:02d}T00:00:00+00:00",
            "categories": [{"name": f"topic {rng.integers(8)}", "level": "medium"}],
            "tags": [f"tag {t}" for t in rng.choice(30, size=2, replace=False)],
            "keywords": [],
        }
        for i in range(600)
    ]
    matrix = sp.random(600, 2000, density=0.02, random_state=rng, dtype=np.float32)
    return records, l2_normalise(matrix.tocsr())


def _lists_with(
    monkeypatch: pytest.MonkeyPatch,
    records: list,
    matrix,
    settings: RelatedSettings | None = None,
    on_rows=None,
    **constants: int,
):
    """compute_related after setting constants of index.related or index.neighbours
    (kept by the test's monkeypatch until it ends)."""
    import index.neighbours as neighbours
    import index.related as related

    for name, value in constants.items():
        monkeypatch.setattr(neighbours if hasattr(neighbours, name) else related, name, value)
    return related.compute_related(records, matrix, settings, on_rows=on_rows)


def _searched_lists(
    records: list,
    matrix,
    monkeypatch: pytest.MonkeyPatch,
    pool: int | None,
    band: int = 0,
    **settings,
):
    """Lists chosen among `pool` global and `band` date-band candidates over every
    term; with `pool` None, lists from scoring every pair."""
    search = (
        {"APPROXIMATE_FROM": 10**9}
        if pool is None
        else {
            "APPROXIMATE_FROM": 0,
            "CANDIDATE_TERMS": 10**6,
            "GLOBAL_CANDIDATES": pool,
            "BAND_CANDIDATES": band,
        }
    )
    return _lists_with(
        monkeypatch, records, matrix, RelatedSettings(**settings), PAIRWISE_FROM=0, **search
    )


def test_candidate_search_holding_every_post_gives_the_every_pair_lists(
    random_corpus: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    records, matrix = random_corpus
    exact = _searched_lists(records, matrix, monkeypatch, None)
    searched = _searched_lists(records, matrix, monkeypatch, pool=10**6, band=0)
    assert (searched.neighbours == exact.neighbours).all()
    for name in ("score", "text", "taxonomy", "time"):
        assert abs(getattr(searched, name) - getattr(exact, name)).max() < 1e-5, name
    few = _searched_lists(records, matrix, monkeypatch, pool=3, band=0)
    assert (few.neighbours != exact.neighbours).any()  # the pool size is in effect


def test_band_of_dates_finds_candidates_the_global_pool_misses(
    random_corpus: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a band of dates wide enough to hold the corpus, the band alone finds every
    list's best posts (its columns map back to the right posts), however small the
    global pool; with the default band, what the time prior lifts from the same months
    is found even when the global pool misses it."""
    import numpy as np

    records, matrix = random_corpus
    wide = {"closeness_days": 10_000.0}
    exact = _searched_lists(records, matrix, monkeypatch, None, **wide)
    banded = _searched_lists(records, matrix, monkeypatch, pool=1, band=10**6, **wide)
    assert (banded.neighbours == exact.neighbours).all()

    exact = _searched_lists(records, matrix, monkeypatch, None)
    alone = _searched_lists(records, matrix, monkeypatch, pool=40, band=0)
    banded = _searched_lists(records, matrix, monkeypatch, pool=40, band=40)

    def agreement(lists) -> float:
        return float(
            np.mean(
                [
                    len(set(lists.neighbours[r, :10]) & set(exact.neighbours[r, :10])) / 10
                    for r in range(len(records))
                ]
            )
        )

    assert agreement(banded) > agreement(alone)
    assert agreement(banded) >= 0.95


def test_many_lists_search_with_compiled_loops_and_find_what_products_find(
    random_corpus: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build of many lists (COMPILED_FROM rows times posts in all, however they are
    blocked) searches with the compiled loops; fewer take scipy's products. Both give
    the same lists."""
    import index.related as related

    records, matrix = random_corpus
    monkeypatch.setattr(related, "APPROXIMATE_FROM", 0)
    monkeypatch.setattr(related, "PAIRWISE_FROM", 0)
    scorers = {}
    lists = {}
    for name, threshold in (("compiled", 100), ("products", 10**12)):
        monkeypatch.setattr(related, "COMPILED_FROM", threshold)
        scorers[name] = related.PairScorer(records, matrix, RelatedSettings(block_rows=16))
        lists[name] = related.compute_related(
            records, matrix, RelatedSettings(block_rows=16), scorer=scorers[name]
        )
    assert scorers["compiled"]._search.compiled and not scorers["products"]._search.compiled
    for name in ("neighbours", "score", "text", "taxonomy", "time"):
        assert (getattr(lists["compiled"], name) == getattr(lists["products"], name)).all()


def test_loading_the_compiled_loops_is_decided_by_rows_times_posts(
    random_corpus: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both ways' cost per row grows with the corpus while loading costs the same: a
    few lists of a large corpus load the loops, as many of a small one do not."""
    import index.related as related

    records, matrix = random_corpus
    monkeypatch.setattr(related, "APPROXIMATE_FROM", 0)
    rows = list(range(40))
    products = len(rows) * len(records)
    for threshold, compiled in ((products + 1, False), (products, True)):
        monkeypatch.setattr(related, "COMPILED_FROM", threshold)
        scorer = related.PairScorer(records, matrix, RelatedSettings())
        related.compute_related(records, matrix, RelatedSettings(), rows=rows, scorer=scorer)
        assert scorer._search.compiled is compiled, threshold
