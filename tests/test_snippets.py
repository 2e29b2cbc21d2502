"""The highlighter's matching: the fast search for corpus forms finds exactly the words
a plain scan of every word would, and snippets are built from them."""

from __future__ import annotations

import html
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from index.analysis import TOKEN, english_term
from index.schema import english_analyzer
from search.snippets import (
    _CONTEXT_CHARS,
    _FRAGMENT_CHARS,
    SNIPPET_SCAN_CHARS,
    Highlighter,
    _best_windows,
    _mark,
    _Match,
)

_HIGHLIGHTER = Highlighter(english_analyzer())
_WORD_CHAR = re.compile(r"[^\W_]")

# Words sharing stems and prefixes, dotted words and their parts, and neighbours that
# only start like a form ("database" for "data", "identity" for "identify").
_VOCABULARY = [
    "data", "database", "metadata", "dataset", "identify", "identified", "identifiers",
    "identity", "node", "node.js", "js", "happy", "happiness", "happier", "run", "running",
    "runner", "rerun", "cafe", "Data", "NODE.JS", "e.g", "data_model", "searching", "search",
]  # fmt: skip
_SEPARATORS = [" ", "  ", ", ", ". ", "\n", "-", "_", "(", ") ", "/", "'"]


def _corpus_forms(text: str, terms: set[str]) -> frozenset[str]:
    """What the ranking hands the highlighter: every word of the text (the corpus here)
    that analyses to one of the terms."""
    return frozenset(w for w in TOKEN.findall(text.lower()) if english_term(w) in terms)


def _every_word_scan(text: str, forms: frozenset[str]) -> list[tuple[int, int]]:
    """At each word start, the longest form that ends where a word ends; scanning on
    after it. Slow and obvious: the reference for the fast search."""
    lowered, found, position = text.lower(), [], 0
    while position < len(lowered):
        starts_word = not (position and _WORD_CHAR.match(lowered, position - 1))
        ends = [
            position + len(form)
            for form in forms
            if starts_word
            and lowered.startswith(form, position)
            and not _WORD_CHAR.match(lowered, position + len(form))
        ]
        if ends:
            found.append((position, max(ends)))
            position = max(ends)
        else:
            position += 1
    return found


_texts = st.lists(
    st.tuples(st.sampled_from(_VOCABULARY), st.sampled_from(_SEPARATORS)), max_size=40
).map(lambda parts: "".join(word + separator for word, separator in parts))


@settings(max_examples=300, deadline=None)
@given(text=_texts, query=st.sets(st.sampled_from(_VOCABULARY), min_size=1, max_size=4))
def test_fast_form_search_finds_exactly_what_scanning_every_word_finds(
    text: str, query: set[str]
) -> None:
    terms = {t for word in query for w in TOKEN.findall(word.lower()) if (t := english_term(w))}
    forms = _corpus_forms(text, terms)
    found = _HIGHLIGHTER.matches(text, terms, forms)
    assert [(m.start, m.end) for m in found] == _every_word_scan(text, forms)
    assert all(english_term(text[m.start : m.end].lower()) == m.term for m in found)


@settings(max_examples=200, deadline=None)
@given(text=_texts, query=st.sets(st.sampled_from(_VOCABULARY), min_size=1, max_size=4))
def test_fast_form_search_agrees_with_analysing_every_candidate(text: str, query: set[str]) -> None:
    """Without dotted words, looking up forms and analysing each candidate word agree."""
    text = text.replace(".", " ")
    terms = {t for word in query for w in TOKEN.findall(word.lower()) if (t := english_term(w))}
    with_forms = _HIGHLIGHTER.matches(text, terms, _corpus_forms(text, terms))
    analysed = _HIGHLIGHTER.matches(text, terms)
    assert [(m.start, m.end, m.term) for m in with_forms] == [
        (m.start, m.end, m.term) for m in analysed
    ]


def test_the_first_matches_in_text_order_are_kept_up_to_the_limit() -> None:
    text = " ".join(["identity data"] * 50 + ["identified"] * 5)
    forms = frozenset({"data", "identified"})
    found = _HIGHLIGHTER.matches(text, {"data", "identifi"}, forms, limit=20)
    assert [text[m.start : m.end] for m in found] == ["data"] * 20


def test_prefix_cover_is_short_and_starts_every_form() -> None:
    forms = frozenset({"identify", "identified", "identifiers", "happy", "happiness", "run"})
    prefixes = _HIGHLIGHTER._prefix_cover(forms)
    assert all(any(form.startswith(p) for p in prefixes) for form in forms)
    assert "identifi" in prefixes or "identif" in prefixes
    assert len(prefixes) == 3


def test_snippet_marks_every_match_inside_escaped_fragments() -> None:
    text = "Intro <b>bold</b>. " + "filler words here. " * 40 + "We identified the data."
    forms = frozenset({"identified", "data"})
    snippet = _HIGHLIGHTER.snippet((text,), {"identifi", "data"}, forms=forms)
    assert "<mark>identified</mark>" in snippet and "<mark>data</mark>" in snippet
    assert "<b>" not in snippet


def test_a_long_texts_snippet_comes_from_its_head_unless_only_the_rest_matches() -> None:
    filler = "plain words without the query " * (SNIPPET_SCAN_CHARS // 20)
    forms = frozenset({"kettle", "kettles"})
    dense_later = "one kettle here. " + filler + "kettle kettles kettle kettles. "
    snippet = _HIGHLIGHTER.snippet((dense_later,), {"kettl"}, forms=forms)
    assert snippet.count("<mark>") == 1 and "one <mark>kettle</mark>" in snippet
    only_later = filler + "a copper kettle at the very end"
    snippet = _HIGHLIGHTER.snippet((only_later,), {"kettl"}, forms=forms)
    assert "copper <mark>kettle</mark>" in snippet
    # The head is cut at a space, so no word is cut into a shorter match.
    cut_inside = "x" * (SNIPPET_SCAN_CHARS - 7) + " kettles and more"  # "kettle" fits
    assert "<mark>kettles</mark>" in _HIGHLIGHTER.snippet((cut_inside,), {"kettl"}, forms=forms)


def test_a_match_longer_than_a_fragment_gives_the_lead_not_an_error() -> None:
    giant = "a" * 250
    text = f"Some intro words. {giant} and the rest."
    snippet = _HIGHLIGHTER.snippet((text,), {giant}, forms=frozenset({giant}))
    assert snippet.startswith("Some intro words.")


def _windows_by_brute_force(found: list, fragments: int) -> list[list]:
    """Every window (a match and the matches after it ending within a fragment of its
    start) scored by distinct terms, then matches, then earliest; the best ones taken
    greedily while they keep their context apart. Slow and obvious: the reference."""
    scored = []
    for i, first in enumerate(found):
        window = [m for m in found[i:] if m.end <= first.start + _FRAGMENT_CHARS]
        if window:
            scored.append(((len({m.term for m in window}), len(window), -first.start), window))
    scored.sort(key=lambda item: item[0], reverse=True)
    chosen: list[list] = []
    for _, window in scored:
        start, end = window[0].start - _CONTEXT_CHARS, window[-1].end + _CONTEXT_CHARS
        apart = [
            end < w[0].start - _CONTEXT_CHARS or start > w[-1].end + _CONTEXT_CHARS for w in chosen
        ]
        if all(apart) and len(chosen) < fragments:
            chosen.append(window)
    return chosen


_GAPS = st.sampled_from([0, 1, 5, 40, 120, 179, 180, 181, 400])
_LENGTHS = st.sampled_from([1, 4, 9, 60, 179, 180, 181, 300])


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.tuples(_GAPS, _LENGTHS, st.sampled_from("abcd")), max_size=40),
    st.integers(1, 5),
)
def test_best_windows_are_the_ones_a_search_of_every_window_picks(
    layout: list[tuple[int, int, str]], fragments: int
) -> None:
    found, position = [], 0
    for gap, length, term in layout:  # matches in text order, never overlapping
        position += gap
        found.append(_Match(position, position + length, term))
        position += length
    assert _best_windows(found, fragments) == _windows_by_brute_force(found, fragments)


def _marked_piece_by_piece(text: str, start: int, end: int, found: list[_Match]) -> str:
    """What `_mark` must give: each piece escaped on its own, matches that start before
    the last kept one ends or run past `end` left unmarked."""
    out, cursor = [], start
    for match in found:
        if match.start < cursor or match.end > end:
            continue
        out.append(html.escape(text[cursor : match.start]))
        out.append(f"<mark>{html.escape(text[match.start : match.end])}</mark>")
        cursor = match.end
    out.append(html.escape(text[cursor:end]))
    return " ".join("".join(out).split())


@settings(max_examples=500, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from(list("ab <>&\"'\x02\x03\n\t\x1c\xa0")), max_size=60),
    bounds=st.tuples(st.integers(0, 60), st.integers(0, 60)),
    spans=st.lists(st.tuples(st.integers(0, 60), st.integers(0, 8)), max_size=8),
)
def test_marked_text_is_escaped_like_each_piece_on_its_own(
    text: str, bounds: tuple[int, int], spans: list[tuple[int, int]]
) -> None:
    """Marks are put in as stand-in characters and the span escaped at once; a text that
    holds those characters itself must come out as escaping each piece would, whatever
    the span, and with overlapping, empty or out-of-span matches skipped alike."""
    start, end = sorted(min(b, len(text)) for b in bounds)
    found = sorted(
        _Match(first, min(first + length, len(text)), "t")
        for first, length in spans
        if start <= first <= len(text)
    )
    assert _mark(text, start, end, found) == _marked_piece_by_piece(text, start, end, found)
