"""Search over real builds: language, phrases, natural questions, filters, safety, snippets."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from index import build
from search import InvalidParameter, Searcher, SearchRequest
from search.query import MAX_QUERY_CHARS, MAX_TERMS, parse_query
from tests.conftest import seed_front, write_post


@pytest.fixture(scope="module")
def zoo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny corpus with distinct vocabulary for exact expectations."""
    posts = tmp_path_factory.mktemp("zoo") / "posts"
    write_post(
        posts,
        "network.md",
        seed_front(
            "network", "Wiring a home network", "Technology", "Hardware", "Networking", "Routers"
        ),
        "A single network cable joins the router to the switch.",
    )
    write_post(
        posts,
        "tanuki.md",
        seed_front(
            "tanuki",
            "Tanuki folklore",
            "Culture",
            "Japan",
            "Folklore",
            "Yokai",
            date="2023-05-01T00:00:00Z",
        ),
        "The tanuki is a raccoon dog. Raccoon dogs appear in many old stories about "
        "shape shifting and mischief.",
    )
    write_post(
        posts,
        "raccoon.md",
        seed_front(
            "raccoon",
            "Raccoons in the city",
            "Nature",
            "Mammals",
            "Procyonids",
            "Urban Raccoons",
            date="2024-06-01T00:00:00Z",
        ),
        "City raccoons open bins. A dog barked at the raccoon while stories were told.",
    )
    write_post(
        posts,
        "xss.md",
        {"title": "Escaping <b>markup</b>", "date": "2022-01-01"},
        "Never trust `<script>alert('owned')</script>` in a comment & always escape "
        "the alert payload before rendering.",
    )
    write_post(
        posts,
        "french.md",
        {"title": "Randonnée d'été", "date": "2022-07-01", "lang": "fr"},
        "Les randonnées en montagne demandent une bonne crème solaire et de l'eau.",
    )
    return posts


@pytest.fixture(scope="module")
def zoo_searcher(zoo: Path, tmp_path_factory: pytest.TempPathFactory):
    index_dir = tmp_path_factory.mktemp("zoo-index")
    build(zoo, index_dir)
    with Searcher(index_dir) as searcher:
        yield searcher


def slugs(searcher: Searcher, q: str, **kwargs) -> list[str]:
    return [hit.slug for hit in searcher.search(SearchRequest(q=q, **kwargs)).hits]


def test_stemming_finds_other_forms_of_a_word(zoo_searcher: Searcher) -> None:
    assert slugs(zoo_searcher, "networks") == ["network"]
    assert slugs(zoo_searcher, "wired") == ["network"]


def test_quoted_phrase_needs_the_words_together(zoo_searcher: Searcher) -> None:
    assert set(slugs(zoo_searcher, "raccoon dog")) == {"tanuki", "raccoon"}
    assert slugs(zoo_searcher, '"raccoon dog"') == ["tanuki"]


def _phrase_corpus(tmp_path: Path, posts: dict[str, tuple[str | None, str]]) -> Path:
    """Build posts given as slug -> (excerpt or None, body); the slug "french" is in
    French. Returns the index folder."""
    for slug, (excerpt, body) in posts.items():
        front = {"title": f"Post {slug}", "date": "2021-01-01"}
        if excerpt is not None:
            front["excerpt"] = excerpt
        if slug == "french":
            front["lang"] = "fr"
        write_post(tmp_path / "posts", f"{slug}.md", front, body + " Filler words follow here." * 3)
    build(tmp_path / "posts", tmp_path / "index")
    return tmp_path / "index"


def test_body_phrases_skip_stop_words_and_punctuation_like_the_index(tmp_path: Path) -> None:
    bodies = {
        "hyphen": "Our kit is state-of-the-art and cheap.",
        "spaced": "It was the State of the Art, back then.",
        "apart": "A state that never saw art galleries.",
        "reversed": "Art of the state, a different thing.",
        "french": "Le chat noir dort. Un noir chat ici.",
    }
    index_dir = _phrase_corpus(tmp_path, {slug: (None, body) for slug, body in bodies.items()})
    with Searcher(index_dir) as searcher:
        assert set(slugs(searcher, '"state of the art"')) == {"hyphen", "spaced"}
        assert set(slugs(searcher, '"state art"')) == {"hyphen", "spaced"}
        assert slugs(searcher, '"chat noir"') == ["french"]
        assert searcher.search(SearchRequest(q='"noir dort chat"')).fallback == "any_word"
        assert "hyphen" not in slugs(searcher, 'art -"state of the art"')


def test_phrases_in_excerpts_are_found_within_the_excerpt_only(tmp_path: Path) -> None:
    """Excerpts are not in Whoosh: a phrase there is checked in the excerpt itself, in
    the post's language, and never across the excerpt's end into the body."""
    cases = {
        "in-excerpt": ("Our kit is state-of-the-art, and cheap.", "Nothing about kits here."),
        "across": ("We looked at the state", "Art lovers came later."),
        "body-only": ("A summary of the day.", "The state of the art moved on."),
        "french": ("Le chat noir dort ici.", "Rien de plus."),
    }
    with Searcher(_phrase_corpus(tmp_path, cases)) as searcher:
        assert set(slugs(searcher, '"state of the art"')) == {"in-excerpt", "body-only"}
        assert slugs(searcher, '"chat noir"') == ["french"]
        assert "in-excerpt" not in slugs(searcher, 'kit -"state art"')


def test_phrases_skip_excerpts_that_repeat_the_start_of_the_body(tmp_path: Path) -> None:
    """A lead excerpt (the body's start, blanks aside) holds no phrase its body lacks,
    so phrase queries never read it; one that stops inside a body word, or says
    something else, is still read."""
    cases = {
        "derived": (None, "The state of the art in kits."),
        "lead": ("The  state of\nthe art…", "The state of the art in kits."),
        "cut": ("Our state of the ar…", "Our state of the artisans."),
        "own": ("Our kit is state-of-the-art.", "Nothing about kits here."),
    }
    with Searcher(_phrase_corpus(tmp_path, cases)) as searcher:
        loaded = searcher.current()
        flags = {slug: bool(loaded.excerpt_in_body[row]) for slug, row in loaded.row_of.items()}
        assert flags == {"derived": True, "lead": True, "cut": False, "own": False}
        assert set(slugs(searcher, '"state of the art"')) == {"derived", "lead", "own"}
        assert "excerpt_in_body" not in searcher.post("own")  # not a public field


def test_a_question_finds_posts_holding_most_of_its_words(zoo_searcher: Searcher) -> None:
    found = slugs(zoo_searcher, "old stories about a dog shape shifting zeppelin")
    assert found[0] == "tanuki" and "raccoon" in found


def test_words_in_other_languages_match_with_or_without_accents(zoo_searcher: Searcher) -> None:
    assert slugs(zoo_searcher, "randonnées") == ["french"]
    assert slugs(zoo_searcher, "randonnees") == ["french"]
    assert slugs(zoo_searcher, "crème") == ["french"]
    # No English stemmer on French: "randonnée" (singular) is a different word.
    assert slugs(zoo_searcher, "montagne") == ["french"]


def test_empty_query_browses_newest_first(zoo_searcher: Searcher) -> None:
    assert slugs(zoo_searcher, "") == ["raccoon", "network", "tanuki", "french", "xss"]
    assert zoo_searcher.search(SearchRequest(q="   ")).total == 5


def test_category_filter_and_facets_cover_the_whole_result_set(zoo_searcher: Searcher) -> None:
    page = zoo_searcher.search(SearchRequest(q="raccoon", per_page=1))
    assert page.total == 2 and len(page.hits) == 1
    counts = {f["name"]: f["count"] for f in page.facets["categories"]}
    assert counts["Folklore"] == 1 and counts["Urban Raccoons"] == 1
    assert slugs(zoo_searcher, "raccoon", categories=("folklore",)) == ["tanuki"]
    both = slugs(zoo_searcher, "raccoon", categories=("Folklore", "Mammals"))
    assert set(both) == {"tanuki", "raccoon"}
    assert slugs(zoo_searcher, "raccoon", categories=("Routers",)) == []


def test_pagination_pages_through_results(zoo_searcher: Searcher) -> None:
    first = slugs(zoo_searcher, "", per_page=2, page=1)
    second = slugs(zoo_searcher, "", per_page=2, page=2)
    third = slugs(zoo_searcher, "", per_page=2, page=3)
    assert len(first) == 2 and len(second) == 2 and len(third) == 1
    assert not set(first) & set(second)
    assert slugs(zoo_searcher, "", per_page=2, page=9) == []
    with pytest.raises(InvalidParameter) as error:
        zoo_searcher.search(SearchRequest(page=100, per_page=50))
    assert error.value.param == "page"


def test_snippet_escapes_post_html_before_marking(zoo_searcher: Searcher) -> None:
    hit = zoo_searcher.search(SearchRequest(q="alert")).hits[0]
    assert hit.slug == "xss"
    assert "&lt;script&gt;" in hit.snippet and "<script" not in hit.snippet
    assert "<mark>alert</mark>" in hit.snippet
    assert "&amp;" in hit.snippet
    assert hit.title_html == "Escaping markup"  # tags in titles are text, never markup


def test_snippet_marks_stemmed_matches_on_word_boundaries(zoo_searcher: Searcher) -> None:
    hit = zoo_searcher.search(SearchRequest(q="raccoons stories")).hits[0]
    assert "<mark>Raccoon</mark>" in hit.snippet or "<mark>raccoon</mark>" in hit.snippet
    assert "<mark>stories</mark>" in hit.snippet
    for fragment in hit.snippet.split(" … "):
        text = fragment.replace("<mark>", "").replace("</mark>", "").strip("…")
        assert text == text.strip()


def test_a_phrase_that_finds_nothing_falls_back_to_any_word(zoo_searcher: Searcher) -> None:
    page = zoo_searcher.search(SearchRequest(q='"raccoon zeppelin"'))
    assert page.fallback == "any_word" and page.total == 2


def test_scheduled_posts_appear_when_their_date_comes(tmp_path: Path) -> None:
    write_post(tmp_path / "posts", "soon.md", {"title": "Comet", "date": "2030-01-01"}, "comet")
    write_post(tmp_path / "posts", "now.md", {"title": "Planet", "date": "2020-01-01"}, "comet")
    build(tmp_path / "posts", tmp_path / "index")
    with Searcher(tmp_path / "index") as searcher:
        assert slugs(searcher, "comet") == ["now"]
        later = dt.datetime(2030, 1, 2, tzinfo=dt.UTC)
        assert {h.slug for h in searcher.search(SearchRequest(q="comet"), now=later).hits} == {
            "soon",
            "now",
        }


HOSTILE = [
    "*",
    "body:*",
    "*e*",
    "a*",
    "???",
    "body:[a TO z]",
    "[a TO]",
    "NOT NOT NOT python",
    "(" * 2000 + "x" + ")" * 2000,
    "x" * 50_000,
    "python^1e308",
    "title:python~5",
    " ".join(f"w{i}" for i in range(1000)),
    " OR ".join(f"w{i}" for i in range(1000)),
    "\x00\ud800\u200b\u202e",
    "nosuchfield:python",
    '"unbalanced',
    "AND OR NOT",
    ":",
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_input_parses_to_capped_plain_parts(text: str) -> None:
    parsed = parse_query(text)
    assert len(parsed.text) <= MAX_QUERY_CHARS
    counted = [*parsed.words, *parsed.excluded_words]
    counted += [w for p in parsed.phrases + parsed.excluded_phrases for w in p]
    assert len(counted) <= MAX_TERMS
    assert all(w.isalnum() or "." in w for w in counted)


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_input_searches_without_error(zoo_searcher: Searcher, text: str) -> None:
    page = zoo_searcher.search(SearchRequest(q=text))
    assert page.total >= 0 and not page.partial


def test_natural_question_finds_the_relevant_sample_post(sample_searcher: Searcher) -> None:
    question = "why does my sourdough starter smell strange and refuse to rise in winter"
    assert len(question.split()) >= 12
    found = [h.slug for h in sample_searcher.search(SearchRequest(q=question)).hits]
    assert "sourdough-starter-troubleshooting" in found[:3]


def test_neural_networks_query_finds_the_ai_posts(sample_searcher: Searcher) -> None:
    page = sample_searcher.search(SearchRequest(q="neural networks"))
    top = page.hits[:5]
    assert all(any(c["name"] == "Artificial Intelligence" for c in h.categories) for h in top)
    assert all("<mark>" in h.snippet for h in top)


def test_category_counts_ignore_the_category_filter(zoo_searcher: Searcher) -> None:
    """Ticking one category must not hide the others: several values are OR-ed."""
    page = zoo_searcher.search(SearchRequest(q="raccoon", categories=("Folklore",)))
    assert page.total == 1
    counts = {f["name"]: f["count"] for f in page.facets["categories"]}
    assert counts["Folklore"] == 1 and counts["Urban Raccoons"] == 1
    empty = zoo_searcher.search(SearchRequest(q="raccoon", categories=("Routers",)))
    assert {f["value"]: f["count"] for f in empty.facets["categories"]}["routers"] == 0


def test_no_fallback_is_claimed_when_the_retry_finds_nothing_too(zoo_searcher: Searcher) -> None:
    page = zoo_searcher.search(SearchRequest(q="zeppelin AND blimp"))
    assert page.total == 0 and page.fallback is None


def test_browsing_has_no_relevance_score(zoo_searcher: Searcher) -> None:
    assert {hit.score for hit in zoo_searcher.search(SearchRequest()).hits} == {0.0}


def test_a_query_with_not_never_falls_back_to_matching_the_excluded_word(
    zoo_searcher: Searcher,
) -> None:
    page = zoo_searcher.search(SearchRequest(q='"zeppelin raccoon" -raccoon'))
    assert page.total == 0 and page.fallback is None


def test_undated_posts_come_last_when_browsing(tmp_path: Path) -> None:
    write_post(tmp_path / "p", "undated.md", {"title": "Undated"}, "text")
    write_post(tmp_path / "p", "old.md", {"title": "Old", "date": "2001-01-01"}, "text")
    write_post(tmp_path / "p", "new.md", {"title": "New", "date": "2024-01-01"}, "text")
    build(tmp_path / "p", tmp_path / "i")
    with Searcher(tmp_path / "i") as searcher:
        assert slugs(searcher, "") == ["new", "old", "undated"]
