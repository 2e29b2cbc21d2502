"""The search box: as-you-type, typo tolerance, facets and filters, query language, zero results."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from api import create_app
from api.cli import main
from api.zero_results import ZeroResultLog, normalise, read_report
from index import build
from index.lexical import LexicalIndex
from search import Searcher, SearchRequest
from search.cache import AnswerCache
from search.query import parse_query
from search.ranking import WORD_CACHE
from search.searcher import Boosts
from search.spelling import Speller, allowed_edits
from tests.conftest import seed_front, write_post

BODY = "Plain words about {topic}, written for the {topic} readers of this blog."


@pytest.fixture(scope="module")
def shelf(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Searcher]:
    """Eight posts with known categories, tags, authors, years and flags."""
    root = tmp_path_factory.mktemp("shelf")
    posts = root / "posts"
    specs = [
        ("kettle", "Descaling a kettle", "Home", "Kitchen", 2021, ["appliances"], "ann", True),
        (
            "toaster",
            "Toaster crumbs and fire risk",
            "Home",
            "Kitchen",
            2022,
            ["appliances"],
            "bob",
            False,
        ),
        ("sofa", "Cleaning a fabric sofa", "Home", "Living room", 2022, ["cleaning"], "ann", False),
        (
            "kettlebell",
            "Kettlebell swings for beginners",
            "Sport",
            "Strength",
            2023,
            ["training"],
            "cy",
            True,
        ),
        (
            "marathon",
            "Marathon training plan",
            "Sport",
            "Running",
            2023,
            ["training", "plans"],
            "bob",
            False,
        ),
        ("trail", "Trail running shoes", "Sport", "Running", 2024, ["gear"], "cy", False),
        ("tent", "Pitching a tent in wind", "Outdoors", "Camping", 2024, ["gear"], "ann", False),
        (
            "stove",
            "Camp stove kettle tricks",
            "Outdoors",
            "Camping",
            2020,
            ["gear", "appliances"],
            "bob",
            False,
        ),
    ]
    for slug, title, general, medium, year, tags, author, featured in specs:
        front = seed_front(
            slug,
            title,
            general,
            medium,
            f"{medium} tips",
            f"{slug} niche",
            date=f"{year}-03-01T10:00:00Z",
            tags=tags,
            author=author,
            featured=featured,
            trending=slug in {"trail", "sofa"},
        )
        write_post(posts, f"{slug}.md", front, BODY.format(topic=title.lower()))
    write_post(
        posts,
        "hostile.md",
        {
            "title": 'Kettle tips: 5 < 6 & "quoted" <img src=x onerror=alert(1)>',
            "date": "2019-01-01",
        },
        "A <script>alert(1)</script> kettle &amp; <b>bold</b> claim about kettle scale.",
    )
    build(posts, root / "index")
    with Searcher(root / "index") as searcher:
        yield searcher


def slugs(page) -> list[str]:
    return [hit.slug for hit in page.hits]


def counts(page, facet: str) -> dict[str, int]:
    return {value["value"]: value["count"] for value in page.facets[facet]}


# --- query language -------------------------------------------------------------------


def test_query_language_pieces_are_read_as_people_mean_them() -> None:
    parsed = parse_query(
        'kettle "fire risk" -toaster -"wind tent" category:Home tag:"cast iron" foo:bar'
    )
    assert parsed.words == ("kettle", "foo", "bar")
    assert parsed.phrases == (("fire", "risk"),)
    assert parsed.excluded_words == ("toaster",)
    assert parsed.excluded_phrases == (("wind", "tent"),)
    assert parsed.categories == ("Home",) and parsed.tags == ("cast iron",)


def test_operators_and_syntax_are_plain_words() -> None:
    parsed = parse_query('NOT NOT x* body:[a TO z] "unclosed (group')
    assert parsed.phrases == () and parsed.categories == ()
    assert set(parsed.words) >= {"not", "x", "body", "a", "to", "z", "unclosed", "group"}


def test_prefix_only_applies_to_a_word_still_being_typed() -> None:
    assert parse_query("kettle des", prefix=True).prefix == "des"
    assert parse_query("kettle des ", prefix=True).prefix is None
    assert parse_query('kettle "des"', prefix=True).prefix is None


def test_excluded_word_removes_posts(shelf: Searcher) -> None:
    assert "stove" in slugs(shelf.search(SearchRequest(q="kettle")))
    assert "stove" not in slugs(shelf.search(SearchRequest(q="kettle -camp")))


def test_phrase_requires_the_words_side_by_side(shelf: Searcher) -> None:
    assert slugs(shelf.search(SearchRequest(q='"fire risk"'))) == ["toaster"]
    assert shelf.search(SearchRequest(q='"risk fire"')).fallback == "any_word"


def test_category_and_tag_typed_in_the_box_filter(shelf: Searcher) -> None:
    assert set(slugs(shelf.search(SearchRequest(q="kettle category:outdoors")))) == {"stove"}
    assert set(slugs(shelf.search(SearchRequest(q="tag:training")))) == {"kettlebell", "marathon"}


# --- facets and filters ---------------------------------------------------------------


def test_facets_count_the_whole_result_set_not_the_page(shelf: Searcher) -> None:
    page = shelf.search(SearchRequest(q="", per_page=1))
    assert page.total == 9 and len(page.hits) == 1
    assert counts(page, "categories")["home"] == 3
    assert counts(page, "tags") == {
        "appliances": 3,
        "cleaning": 1,
        "training": 2,
        "plans": 1,
        "gear": 3,
    }
    assert counts(page, "authors") == {"ann": 3, "bob": 3, "cy": 2}
    assert counts(page, "years") == {
        "2024": 2,
        "2023": 2,
        "2022": 2,
        "2021": 1,
        "2020": 1,
        "2019": 1,
    }
    assert [v["value"] for v in page.facets["years"]][:2] == ["2024", "2023"]


def test_category_facet_values_carry_their_level(shelf: Searcher) -> None:
    levels = {
        v["value"]: v.get("level") for v in shelf.search(SearchRequest()).facets["categories"]
    }
    assert levels["home"] == "general" and levels["kitchen"] == "medium"
    assert levels["kitchen tips"] == "specific" and levels["kettle niche"] == "niche"


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (SearchRequest(tags=("gear",)), {"trail", "tent", "stove"}),
        (SearchRequest(tags=("gear", "cleaning")), {"trail", "tent", "stove", "sofa"}),
        (SearchRequest(authors=("ann",)), {"kettle", "sofa", "tent"}),
        (SearchRequest(years=("2022", "2024")), {"toaster", "sofa", "trail", "tent"}),
        (SearchRequest(featured=True), {"kettle", "kettlebell"}),
        (SearchRequest(trending=True), {"trail", "sofa"}),
        (SearchRequest(categories=("Camping tips",)), {"tent", "stove"}),  # specific level
        (SearchRequest(tags=("gear",), authors=("bob",)), {"stove"}),  # AND across facets
        (
            SearchRequest(
                date_from=dt.datetime(2022, 1, 1, tzinfo=dt.UTC),
                date_to=dt.datetime(2023, 12, 31, tzinfo=dt.UTC),
            ),
            {"toaster", "sofa", "kettlebell", "marathon"},
        ),
        (SearchRequest(q="kettle", authors=("bob", "cy")), {"stove"}),
    ],
)
def test_filters(shelf: Searcher, request_: SearchRequest, expected: set[str]) -> None:
    page = shelf.search(request_)
    assert set(slugs(page)) == expected and page.total == len(expected)


def test_a_facet_counts_ignore_its_own_filter_but_not_the_others(shelf: Searcher) -> None:
    page = shelf.search(SearchRequest(tags=("gear",), authors=("bob",)))
    assert counts(page, "authors") == {"ann": 1, "bob": 1, "cy": 1}  # gear posts by author
    assert counts(page, "tags") == {"appliances": 2, "gear": 1, "training": 1, "plans": 1}


def test_sort_newest(shelf: Searcher) -> None:
    page = shelf.search(SearchRequest(q="kettle", sort="newest"))
    dates = [hit.date for hit in page.hits]
    assert dates == sorted(dates, reverse=True) and page.sort == "newest"


def test_boosts_are_off_by_default_and_reorder_when_set(shelf: Searcher) -> None:
    plain = shelf.search(SearchRequest(q="kettle"))
    with Searcher(shelf.index_dir, boosts=Boosts(featured=50)) as boosted:
        lifted = boosted.search(SearchRequest(q="kettle"))
    assert slugs(plain)[0] != "kettlebell" and slugs(lifted)[0] in {"kettle", "kettlebell"}
    assert set(slugs(lifted)) == set(slugs(plain))
    # Only the featured post's score is multiplied, by exactly 1 + 50.
    before = {hit.slug: hit.score for hit in plain.hits}
    after = {hit.slug: hit.score for hit in lifted.hits}
    assert after["kettle"] == pytest.approx(before["kettle"] * 51, rel=1e-3)
    assert {s: after[s] for s in after if s != "kettle"} == {
        s: before[s] for s in before if s != "kettle"
    }


# --- snippets -------------------------------------------------------------------------


def test_snippets_and_titles_are_escaped_before_marking(shelf: Searcher) -> None:
    hit = next(h for h in shelf.search(SearchRequest(q="kettle")).hits if h.slug == "hostile")
    assert "&lt; 6 &amp; &quot;quoted&quot;" in hit.title_html
    assert "<mark>Kettle</mark>" in hit.title_html
    assert "<" not in hit.title_html.replace("<mark>", "").replace("</mark>", "")
    assert "<script" not in hit.snippet and "<mark>kettle</mark>" in hit.snippet
    stripped = hit.snippet.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in stripped


# --- as you type ----------------------------------------------------------------------


def test_prefix_search_matches_the_word_being_typed(shelf: Searcher) -> None:
    assert slugs(shelf.search(SearchRequest(q="kettleb", prefix=True))) == ["kettlebell"]
    typed = shelf.search(SearchRequest(q="kettleb"))  # finished: a typo of "kettle"
    assert typed.corrected_query == "kettle" and "kettlebell" not in slugs(typed)


def test_suggest_completes_the_last_word_and_finds_titles(shelf: Searcher) -> None:
    found = shelf.suggest("camp ket")
    assert found.completions[0].text == "camp kettle"
    assert [p.slug for p in found.posts] == ["stove"]
    assert "<mark>" in found.posts[0].title_html


def test_stop_words_typed_before_the_last_word_narrow_nothing(shelf: Searcher) -> None:
    """English posts do not index stop words or single letters: typed as questions are
    ("how to pitch a te"), they must not empty the posts a completion is counted in or
    the titles that can match."""
    asked = shelf.suggest("how to pitch a te")
    assert [c.text for c in asked.completions][:1] == ["how to pitch a tent"]
    assert [p.slug for p in asked.posts] == ["tent"]
    assert "<mark>tent</mark>" in asked.posts[0].title_html.lower()
    # Words the posts do index still narrow: no post holds "marathon" and a tent.
    narrowed = shelf.suggest("marathon te")
    assert "marathon tent" not in [c.text for c in narrowed.completions]
    assert narrowed.posts == []
    # Nothing but stop words finished and nothing being typed: no title is "matched".
    assert shelf.suggest("how to ").posts == []


def test_counting_a_words_posts_in_a_mask_equals_intersecting_masks(shelf: Searcher) -> None:
    """Suggest counts each completion's posts among the context's without a mask per word."""
    ranking = shelf.current().ranking
    rng = np.random.default_rng(7)
    for _ in range(5):
        mask = rng.random(ranking.posts) < 0.5
        for word in ranking.words:
            expected = int(np.count_nonzero(mask & ranking.containing(word)))
            assert ranking.count_in(word, mask) == expected
    everything = np.ones(ranking.posts, bool)
    for word in ranking.words:
        assert ranking.posts_with(word) == ranking.count_in(word, everything)
    assert ranking.count_in("no-such-word-anywhere", everything) == 0
    assert ranking.posts_with("no-such-word-anywhere") == 0


def test_scoring_some_posts_gives_their_scores_from_scoring_all(shelf: Searcher) -> None:
    """Suggest scores only the posts whose titles match: the same float32 values."""
    ranking = shelf.current().ranking
    rng = np.random.default_rng(3)
    words = ranking.words
    for _ in range(40):
        query = tuple(rng.choice(words, int(rng.integers(0, 4))))
        prefix = str(rng.choice(words))[: int(rng.integers(1, 4))] if rng.random() < 0.7 else None
        rows = np.flatnonzero(rng.random(ranking.posts) < 0.3)
        every = ranking.score(query, prefix)
        assert np.array_equal(ranking.score(query, prefix, rows=rows), every[rows])
        shuffled = rng.permutation(rows)
        assert np.array_equal(ranking.score(query, prefix, rows=shuffled), every[shuffled])
        assert ranking.score(query, prefix, rows=rows[:0]).size == 0


def test_matching_titles_are_scored_from_the_title_postings(shelf: Searcher) -> None:
    """Suggestions rank the posts whose titles match by the whole BM25F weights of the
    typed words, plus the best completion their title holds: read from the weights the
    build keeps with each title posting, they equal the full matrix's."""
    ranking = shelf.current().ranking
    assert ranking.title_weights
    build_dir = shelf.current().build_dir
    lexical = LexicalIndex.load(build_dir)
    weights, titles = lexical.weights.toarray(), lexical.titles.toarray()
    in_title = titles > 0
    assert np.array_equal(titles[in_title], weights[in_title])  # the same weights
    rng = np.random.default_rng(5)
    words = ranking.words
    for _ in range(60):
        typed = tuple(rng.choice(words, int(rng.integers(0, 3))))
        prefix = str(rng.choice(words))[: int(rng.integers(1, 4))] if rng.random() < 0.8 else None
        rows = np.ones(ranking.posts, dtype=bool)
        for word in typed:
            rows &= ranking.in_titles(word)
        if prefix:
            rows &= ranking.in_titles(prefix, prefix=True)
        rows = np.flatnonzero(rows)
        typed_rows = list(dict.fromkeys(r for w in typed for r in ranking.term_rows(w)))
        expected = weights[typed_rows][:, rows].sum(axis=0)
        if prefix:
            completed = {r for w in ranking.completions(prefix) for r in ranking.term_rows(w)}
            extra = sorted(completed - set(typed_rows))
            if extra:
                expected = expected + (weights[extra] * in_title[extra])[:, rows].max(axis=0)
        got = ranking.title_scores(typed, prefix, rows)
        np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_a_title_ranks_by_the_completion_it_holds_not_one_in_its_body(tmp_path: Path) -> None:
    posts = tmp_path / "posts"
    body = "After the kettlebell swings of the day, the kettlebell goes back on its shelf. "
    write_post(posts, "care.md", {"title": "Kettle care"}, body * 8 + "Then I fill the kettle.")
    for name in ("tea", "camp", "shop", "gift"):  # "kettle" is common, "kettlebell" rare
        write_post(posts, f"{name}.md", {"title": f"The {name} kettle"}, f"A kettle for {name}.")
    build(posts, tmp_path / "index")
    with Searcher(tmp_path / "index") as searcher:
        ranking = searcher.current().ranking
        lexical = LexicalIndex.load(searcher.current().build_dir)
        rows = np.flatnonzero(ranking.in_titles("kett", prefix=True))
        care = searcher.current().row_of["care"]
        assert searcher.current().posts[care]["lang"] == "en"
        kettle = lexical.terms.index("kettl")
        held = ranking.title_scores((), "kett", rows)[list(rows).index(care)]
        assert held == lexical.weights[kettle, care]  # not its body's heavier kettlebell
        assert held < ranking.score((), "kett")[care]


def test_builds_without_title_weights_score_titles_from_every_posting(shelf: Searcher) -> None:
    """A build made before title postings carried weights is still served."""
    ranking = shelf.current().ranking
    rows = np.flatnonzero(ranking.in_titles("kettle"))
    try:
        ranking.title_weights = False
        older = ranking.title_scores(("kettle",), "ca", rows)
    finally:
        ranking.title_weights = True
    assert np.array_equal(older, ranking.score(("kettle",), "ca", rows=rows))


def test_a_word_in_english_and_other_posts_counts_each_post_once(tmp_path: Path) -> None:
    """A word matches an English stem and a foreign word: two posting rows, one count."""
    posts = tmp_path / "posts"
    write_post(posts, "en.md", {"title": "Cats"}, "The chat window of the app is open.")
    write_post(posts, "fr.md", {"title": "Chats", "lang": "fr"}, "Le chat dort sur le lit.")
    build(posts, tmp_path / "index")
    with Searcher(tmp_path / "index") as searcher:
        ranking = searcher.current().ranking
        assert len(ranking.term_rows("chat")) == 2
        everything = np.ones(ranking.posts, dtype=bool)
        assert ranking.count_in("chat", everything) == 2
        assert ranking.count_in("chat", ~everything) == 0
        assert ranking.posts_with("chat") == 2
        # count_in adds the rows' counts: a post is indexed in one language only.
        for word in ranking.words:
            rows = [set(ranking.weights.row(r)[0].tolist()) for r in ranking.term_rows(word)]
            assert len(rows) < 2 or not rows[0] & rows[1], word


def test_suggested_titles_mark_words_whose_stem_starts_differently(tmp_path: Path) -> None:
    """Porter stems "ways" to "wai": titles are marked by the corpus forms of a term, as
    search hits are, not by guessing candidates from the stem's first letters."""
    posts = tmp_path / "posts"
    write_post(posts, "ways.md", {"title": "Ways to fold paper"}, "Paper folding, step by step.")
    write_post(posts, "way.md", {"title": "The way of tea"}, "Tea ceremonies and their ways.")
    build(posts, tmp_path / "index")
    with Searcher(tmp_path / "index") as searcher:
        found = searcher.suggest("way")
        marked = {p.slug: p.title_html for p in found.posts}
        assert marked == {
            "ways": "<mark>Ways</mark> to fold paper",
            "way": "The <mark>way</mark> of tea",
        }
        hit = searcher.search(SearchRequest(q="ways")).hits
        assert {h.slug: h.title_html for h in hit} == marked  # the same marks as search


def test_suggest_bounds_a_one_letter_prefix(shelf: Searcher) -> None:
    found = shelf.suggest("t", limit=3)
    assert 0 < len(found.completions) <= 3
    assert all(c.word.startswith("t") for c in found.completions)


# --- typo tolerance -------------------------------------------------------------------


def test_allowed_edits_grow_with_the_word() -> None:
    assert [allowed_edits("x" * n) for n in (3, 4, 5, 8, 9, 12)] == [0, 0, 1, 1, 2, 2]


def test_speller_counts_a_swap_as_one_edit_and_prefers_frequent_words() -> None:
    import numpy as np

    speller = Speller(["neural", "natural", "network", "networks"], np.array([5, 9, 8, 2]))
    assert speller.correct("nueral", 0).replacement == "neural"
    assert speller.correct("netwrok", 0).replacement == "network"
    assert speller.correct("neural", 5) is None
    assert speller.correct("cat", 0) is None  # too short to correct


def test_letter_masks_never_set_aside_a_correction() -> None:
    """The speller skips words whose letters differ too much to be within the allowed
    edits; over random words and random typos (swaps, substitutions, insertions,
    deletions, accented letters) it finds what comparing every word finds."""
    import random

    import numpy as np
    from rapidfuzz.distance import OSA

    from search.spelling import Correction as Found
    from search.spelling import _better

    rng = random.Random(5)
    letters = "abcdefghijklmnopqrstuvwxyzéüø"
    words = sorted({"".join(rng.choices(letters, k=rng.randint(4, 12))) for _ in range(3000)})
    df = np.array([rng.randint(1, 50) for _ in words])
    speller = Speller(words, df)

    def every_word(word: str, seen_in: int) -> str | None:
        edits = allowed_edits(word)
        best = None
        for candidate, count in zip(words, df, strict=True):
            distance = OSA.distance(word, candidate)
            if candidate != word and distance <= edits:
                found = Found(word, candidate, distance, int(count))
                best = found if best is None or _better(found, best) else best
        if edits == 0 or best is None or (seen_in and best.df < max(20 * seen_in, 3)):
            return None
        return best.replacement

    for _ in range(400):
        typo = list(rng.choice(words))
        for _ in range(rng.randint(1, 2)):
            i = rng.randrange(len(typo))
            kind = rng.randrange(4)
            if kind == 0 and i + 1 < len(typo):
                typo[i], typo[i + 1] = typo[i + 1], typo[i]
            elif kind == 1:
                typo[i] = rng.choice(letters)
            elif kind == 2:
                typo.insert(i, rng.choice(letters))
            elif len(typo) > 1:
                del typo[i]
        word = "".join(typo)
        found = speller.correct(word, 0)
        assert (found.replacement if found else None) == every_word(word, 0), word


def test_misspelled_query_is_corrected_and_says_so(sample_searcher: Searcher) -> None:
    page = sample_searcher.search(SearchRequest(q="nueral netwrok"))
    assert page.fallback == "corrected" and page.corrected_query == "neural network"
    assert page.hits and "neural" in page.hits[0].title.lower()
    original = sample_searcher.search(SearchRequest(q="nueral netwrok", correct=False))
    assert original.total == 0 and original.suggestion == "neural network"


def test_rare_spelling_gets_a_suggestion_but_is_searched_as_typed(tmp_path: Path) -> None:
    posts = tmp_path / "posts"
    for i in range(25):
        write_post(posts, f"p{i}.md", {"title": f"Post {i}"}, "Notes about the garden and flowers.")
    write_post(posts, "typo.md", {"title": "Typo"}, "The gardne is a common misspelling.")
    build(posts, tmp_path / "index")
    with Searcher(tmp_path / "index") as searcher:
        page = searcher.search(SearchRequest(q="gardne"))
    assert [h.slug for h in page.hits] == ["typo"] and page.fallback is None
    assert page.suggestion == "garden"


# --- zero results ---------------------------------------------------------------------


def test_zero_result_queries_are_normalised_without_personal_data() -> None:
    assert normalise("  Mail  ME at Bob@Example.com ") == "mail me at [email]"
    assert normalise("call +44 20 7946 0958 now") == "call [number] now"


def test_zero_result_searches_are_logged_and_reported(sample_build: Path, tmp_path: Path) -> None:
    log = tmp_path / "zero.jsonl"
    app = create_app(
        {"TESTING": True, "INDEX_DIR": str(sample_build), "ZERO_RESULTS_LOG": str(log)}
    )
    client = app.test_client()
    try:
        for q in ["quantum knitting", "Quantum  knitting", "zzz xylophone", "sourdough"]:
            assert client.get("/api/search", query_string={"q": q}).status_code == 200
        client.get("/api/search", query_string={"q": "sourdough", "category": "Travel"})
        client.get("/api/search", query_string={"q": "quantu", "prefix": "1"})
        recorder: ZeroResultLog = app.extensions["postsearch.zero_results"]
        assert recorder.counts == {"quantum knitting": 2, "zzz xylophone": 1}
    finally:
        app.extensions["postsearch.searcher"].close()
    rows = read_report(log)
    assert [(r.query, r.count) for r in rows] == [("quantum knitting", 2), ("zzz xylophone", 1)]
    log.write_text(log.read_text() + '{"torn line\n', encoding="utf-8")  # a crash mid-write
    result = CliRunner().invoke(main, ["report", "zero-results", "--log", str(log), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["queries"][0] == {
        "query": "quantum knitting",
        "count": 2,
        "first_day": rows[0].first_day,
        "last_day": rows[0].last_day,
    }
    table = CliRunner().invoke(main, ["report", "zero-results", "--log", str(log)])
    assert "quantum knitting" in table.output and table.exit_code == 0


# --- over HTTP ------------------------------------------------------------------------


def test_search_parameters_over_http(client) -> None:
    body = client.get("/api/search?q=bread&sort=newest&year=2023&year=2022&featured=0").get_json()
    assert body["sort"] == "newest"
    assert all(r["date"][:4] in {"2022", "2023"} for r in body["results"])
    suggest = client.get("/api/suggest?q=sourd").get_json()
    assert suggest["completions"][0]["word"] == "sourdough"
    assert all(p["url"].startswith("/posts/") for p in suggest["posts"])


@pytest.mark.parametrize(
    "query",
    ["featured=maybe", "from=2024-13", "to=yesterday", "sort=best", "year=" + "9" * 300],
)
def test_bad_filter_values_are_400_naming_the_parameter(client, query: str) -> None:
    response = client.get(f"/api/search?q=x&{query}")
    assert response.status_code == 400
    assert response.get_json()["error"]["param"] == query.split("=")[0]


# --- answer cache ---------------------------------------------------------------------


def test_repeated_answers_come_from_the_cache_of_the_build(tmp_path: Path) -> None:
    posts = tmp_path / "posts"
    write_post(posts, "a.md", {"title": "Alpha kettle", "date": "2020-01-01"}, "kettle")
    build(posts, tmp_path / "index")
    with Searcher(tmp_path / "index") as searcher:
        first = searcher.search(SearchRequest(q="kettle"))
        again = searcher.search(SearchRequest(q="kettle"))
        answers = searcher.current().answers
        assert again is first and answers.hits == 1 and answers.misses == 1
        write_post(posts, "b.md", {"title": "Beta kettle", "date": "2020-02-01"}, "kettle")
        build(posts, tmp_path / "index")
        fresh = searcher.search(SearchRequest(q="kettle"))
        assert fresh.total == 2 and searcher.current().answers is not answers


def test_a_scheduled_post_is_not_hidden_by_a_cached_answer(tmp_path: Path) -> None:
    posts = tmp_path / "posts"
    write_post(posts, "now.md", {"title": "Now", "date": "2020-01-01"}, "comet")
    write_post(posts, "later.md", {"title": "Later", "date": "2030-01-01"}, "comet")
    build(posts, tmp_path / "index")
    with Searcher(tmp_path / "index") as searcher:
        before = dt.datetime(2029, 12, 31, tzinfo=dt.UTC)
        after = dt.datetime(2030, 1, 2, tzinfo=dt.UTC)
        assert searcher.search(SearchRequest(q="comet"), now=before).total == 1
        assert searcher.search(SearchRequest(q="comet"), now=after).total == 2


def test_the_cache_is_bounded_and_can_be_turned_off() -> None:
    cache = AnswerCache(entries=2)
    for key in "abc":
        cache.get_or_compute(key, lambda key=key: key.upper())
    assert len(cache) == 2 and cache.get_or_compute("a", lambda: "again") == "again"
    off = AnswerCache(entries=0)
    calls = []
    off.get_or_compute("x", lambda: calls.append(1))
    off.get_or_compute("x", lambda: calls.append(1))
    assert len(off) == 0 and calls == [1, 1]


def test_the_cache_is_bounded_by_size_too() -> None:
    cache = AnswerCache(entries=100, max_size=10, size_of=len)
    for key in ["aaaa", "bbbb", "cccc"]:
        cache.get_or_compute(key, lambda key=key: key)
    assert len(cache) == 2 and cache.size == 8
    assert cache.get_or_compute("huge", lambda: "x" * 11) == "x" * 11
    assert cache.size == 8


def test_answers_asked_for_once_do_not_push_out_repeated_ones() -> None:
    """With admission on repeats (the response cache's), a full cache keeps a key from
    its second miss on: a long tail of one-off keys leaves the popular answers in place.
    While there is room, every answer is kept from its first request."""
    cache = AnswerCache(entries=100, max_size=10, size_of=len, admit_repeats_of=50)
    cache.get_or_compute("popular", lambda: "aaaa")
    cache.get_or_compute("early", lambda: "bbbb")
    assert len(cache) == 2 and cache.misses == 2  # room for both: kept at once
    for i in range(30):
        cache.get_or_compute(f"once{i}", lambda: "cccc")
    calls: list[int] = []
    assert cache.get_or_compute("popular", lambda: str(calls.append(1))) == "aaaa"
    assert cache.get_or_compute("early", lambda: str(calls.append(1))) == "bbbb"
    assert calls == [] and len(cache) == 2 and cache.hits == 2 and cache.misses == 32
    # Asked again while still remembered, a key is kept, evicting the least recent.
    cache.get_or_compute("once29", lambda: "dddd")
    assert cache.get_or_compute("once29", lambda: "miss") == "dddd"
    assert cache.get_or_compute("popular", lambda: "gone") == "gone"  # the least recent
    # Only the last `admit_repeats_of` missed keys are remembered.
    short = AnswerCache(entries=1, admit_repeats_of=2)
    short.get_or_compute("z", lambda: "kept")  # fills the cache
    for key in "abca":
        short.get_or_compute(key, lambda: "x")
    assert short.get_or_compute("z", lambda: "miss") == "kept"  # "a" was forgotten
    short.get_or_compute("c", lambda: "x")
    assert len(short) == 1 and short.get_or_compute("c", lambda: "miss") == "x"


def test_a_cache_that_has_filled_up_keeps_one_off_answers_out_for_good() -> None:
    """Room freed by evicting a large answer does not let a one-off answer in: once the
    cache has run out of room, every answer needs a repeat to be kept."""
    cache = AnswerCache(entries=100, max_size=10, size_of=len, admit_repeats_of=50)
    cache.get_or_compute("big", lambda: "b" * 6)
    cache.get_or_compute("small", lambda: "s" * 4)
    assert len(cache) == 2 and cache.size == 10  # an exact fit is kept
    cache.get_or_compute("repeat", lambda: "r" * 3)  # no room: not kept, remembered
    assert len(cache) == 2
    cache.get_or_compute("repeat", lambda: "r" * 3)  # asked again: kept, "big" evicted
    assert cache.get_or_compute("repeat", lambda: "miss") == "rrr" and cache.size == 7
    cache.get_or_compute("once", lambda: "o" * 3)  # it would fit, but one-offs wait now
    assert cache.get_or_compute("once", lambda: "again") == "again"
    assert cache.get_or_compute("once", lambda: "miss") == "again"  # kept on its repeat


def test_repeated_urls_are_answered_with_the_same_bytes_until_the_build_changes(
    tmp_path: Path,
) -> None:
    posts = tmp_path / "posts"
    write_post(posts, "a.md", {"title": "Alpha kettle", "date": "2020-01-01"}, "kettle")
    build(posts, tmp_path / "index")
    app = create_app({"TESTING": True, "INDEX_DIR": str(tmp_path / "index")})
    client = app.test_client()
    responses: AnswerCache = app.extensions["postsearch.responses"]
    try:
        urls = ["/api/search?q=kettle", "/api/suggest?q=ket", "/api/posts/a/related"]
        first = [client.get(url) for url in urls]  # kept: the cache has room
        again = [client.get(url) for url in urls]
        assert [r.status_code for r in first + again] == [200] * 6
        assert [r.data for r in again] == [r.data for r in first]
        assert responses.misses == 3 and responses.hits == 3
        # Parameters are read only to compute an answer: a bad one is a 400 every time,
        # and never kept.
        for bad in ("/api/search?q=kettle&page=x", "/api/suggest?q=ket&limit=0"):
            assert [client.get(bad).status_code for _ in range(2)] == [400, 400]
        assert client.get("/api/posts/a/related?limit=x").status_code == 400
        assert len(responses) == 3
        write_post(posts, "b.md", {"title": "Beta kettle", "date": "2020-02-01"}, "kettle")
        build(posts, tmp_path / "index")
        fresh = client.get("/api/search?q=kettle").get_json()
        assert fresh["total"] == 2 and responses.misses == 4
    finally:
        app.extensions["postsearch.searcher"].close()


def test_a_cached_zero_result_search_is_still_counted(sample_build: Path, tmp_path: Path) -> None:
    app = create_app({"TESTING": True, "INDEX_DIR": str(sample_build), "ZERO_RESULTS_LOG": "off"})
    client = app.test_client()
    try:
        for _ in range(4):
            client.get("/api/search", query_string={"q": "quantum knitting"})
        assert app.extensions["postsearch.responses"].hits == 3  # kept from the first on
        assert app.extensions["postsearch.zero_results"].counts == {"quantum knitting": 4}
    finally:
        app.extensions["postsearch.searcher"].close()


def test_response_cache_can_be_turned_off(sample_build: Path) -> None:
    app = create_app({"TESTING": True, "INDEX_DIR": str(sample_build), "RESPONSE_CACHE_MB": 0})
    client = app.test_client()
    try:
        assert client.get("/api/search?q=bread").data == client.get("/api/search?q=bread").data
        assert len(app.extensions["postsearch.responses"]) == 0
    finally:
        app.extensions["postsearch.searcher"].close()


def test_boosts_are_settings_checked_at_startup(sample_build: Path) -> None:
    app = create_app({"TESTING": True, "INDEX_DIR": str(sample_build), "BOOST_FEATURED": 2.5})
    try:
        assert app.extensions["postsearch.searcher"].boosts.featured == 2.5
    finally:
        app.extensions["postsearch.searcher"].close()
    with pytest.raises(ValueError, match="BOOST_TRENDING"):
        create_app({"INDEX_DIR": str(sample_build), "BOOST_TRENDING": -1})
    with pytest.raises(ValueError, match="FRESHNESS_HALF_LIFE_DAYS"):
        create_app({"INDEX_DIR": str(sample_build), "FRESHNESS_HALF_LIFE_DAYS": 0})


def test_word_caches_are_bounded_and_start_empty_with_each_build(tmp_path: Path) -> None:
    """Completions and word rows are cached per build: a new word is offered as soon as
    a build holds it, and no cache grows past WORD_CACHE entries."""
    posts = tmp_path / "p"
    write_post(posts, "a.md", {"title": "Kettles"}, "kettle water")
    build(posts, tmp_path / "i")
    with Searcher(tmp_path / "i") as searcher:
        assert [c.word for c in searcher.suggest("ket").completions] == ["kettle"]
        first = searcher.current().ranking
        write_post(posts, "b.md", {"title": "Ketchup"}, "ketchup tomato")
        build(posts, tmp_path / "i")
        assert {c.word for c in searcher.suggest("ket").completions} == {"kettle", "ketchup"}
        ranking = searcher.current().ranking
        assert ranking is not first
        for n in range(WORD_CACHE + 50):
            ranking.term_rows(f"word{n}")
            ranking.completions(f"pre{n}")
        assert ranking.term_rows.cache_info().currsize == WORD_CACHE
        assert ranking._completions.cache_info().currsize == WORD_CACHE
