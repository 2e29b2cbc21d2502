"""Highlighted, HTML-safe snippets of a post's body around the words that matched.

Whoosh's highlighter re-analyses the whole body for every hit (about 15 ms per long
post); here each distinct word is analysed once and cached, and the body is searched
in C (`str.find`) for the few prefixes that start every corpus form of the query's
terms, so only real candidates reach Python. Text is escaped before `<mark>` is
added and fragments start and end on whitespace, so a snippet never cuts a word or
an entity in half.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Callable
from functools import lru_cache
from typing import NamedTuple

from whoosh.analysis import Analyzer

from index.analysis import TOKEN

_NON_ASCII_WORD = re.compile(r"[^\W_]*[^\x00-\x7f][^\W_]*")
_SEPARATOR = " … "
# Stand-ins for <mark> and </mark> until a fragment is escaped (see _mark).
_OPEN, _CLOSE = "\x02", "\x03"
_LEAD_CHARS = 200
_FRAGMENT_CHARS = 180
_CONTEXT_CHARS = 60
_SCAN_CHARS = 200_000
# Snippets come from the first 20,000 characters (about 3,000 words) when those hold a
# match: scanning is most of a snippet's cost, and a long post's later windows are
# rarely better. A post matching only further on is scanned whole.
SNIPPET_SCAN_CHARS = 20_000
# Snippets are chosen among the first matches: a common word can match a thousand
# times in a long post, and the window search is quadratic in the matches.
_SNIPPET_MATCHES = 120


class _Match(NamedTuple):  # a tuple: made by the hundred per page, sorted by start
    start: int
    end: int
    term: str


class Highlighter:
    """Finds the words of a text whose analysed form is one of the query's terms."""

    def __init__(self, analyzer: Analyzer) -> None:
        self._analyzer = analyzer
        self._normalize: Callable[[str], str | None] = lru_cache(maxsize=200_000)(self._analyse)
        self._plans = lru_cache(maxsize=2048)(self._plan)

    def _analyse(self, word: str) -> str | None:
        tokens = [token.text for token in self._analyzer(word)]
        return tokens[0] if len(tokens) == 1 else None

    def matches(
        self,
        text: str,
        terms: set[str],
        forms: frozenset[str] | None = None,
        limit: int | None = None,
    ) -> list[_Match]:
        """Every occurrence of a query term in `text`, in order.

        Only words that could be one of the terms are analysed: a stem is the start of
        its word (Porter never changes a word's beginning), so a regular expression of
        the terms' first letters finds the candidates in C; words with non-ASCII letters
        are always candidates, because folding accents changes their start. With
        `forms` (every corpus word that analyses to one of the terms) the text is
        searched for those words' shared prefixes instead, and only words that are a
        form are analysed.
        """
        if forms is not None:
            return self._exact_matches(text, terms, forms, limit)
        found = []
        for match in _candidates(frozenset(terms)).finditer(text, 0, _SCAN_CHARS):
            term = self._normalize(match.group())
            if term in terms:
                found.append(_Match(match.start(), match.end(), term))
                if limit is not None and len(found) >= limit:
                    break
        return found

    def _exact_matches(
        self, text: str, terms: set[str], forms: frozenset[str], limit: int | None
    ) -> list[_Match]:
        lowered = text[:_SCAN_CHARS].lower()
        if len(lowered) != min(len(text), _SCAN_CHARS):  # lowercasing moved characters
            return self.matches(text, terms, limit=limit)
        found = []
        prefixes, term_of = self._plans(forms)
        for prefix in prefixes:
            found.extend(self._words_from(lowered, prefix, forms, term_of, limit))
        found.sort()  # by start (no two matches start at the same place)
        found = _without_overlaps(found)[:limit]
        if not lowered.isascii():  # accented words fold to forms the search cannot see
            for m in _NON_ASCII_WORD.finditer(lowered):
                term = self._normalize(m.group())
                if term in terms:
                    found.append(_Match(m.start(), m.end(), term))
            found = _without_overlaps(sorted(found))[:limit]
        return found

    def _words_from(
        self,
        lowered: str,
        prefix: str,
        forms: frozenset[str],
        term_of: dict[str, str],
        limit: int | None,
    ) -> list[_Match]:
        """The first `limit` words starting with `prefix` that are (or begin with) a form.

        `str.find` skips through the text in C; a regular expression (even shaped as a
        trie) tries its alternatives at every position, 2-3x slower on long bodies.
        """
        found: list[_Match] = []
        find, token_at = lowered.find, TOKEN.match
        position = find(prefix)
        while position != -1:
            # Starts a word: `str.isalnum` is the regex class [^\W_], without a regex call.
            if not (position and lowered[position - 1].isalnum()):
                token = token_at(lowered, position)
                word = token.group() if token else ""
                form = word if word in forms else _longest_form(word, forms)
                if form:
                    found.append(_Match(position, position + len(form), term_of[form]))
                    if limit is not None and len(found) >= limit:
                        break
            position = find(prefix, position + 1)
        return found

    def _plan(self, forms: frozenset[str]) -> tuple[tuple[str, ...], dict[str, str]]:
        """What a search for `forms` needs, made once per query (cached): the prefixes
        to look for, and each form's term (looked up once, not once per match)."""
        return self._prefix_cover(forms), {form: self._normalize(form) or "" for form in forms}

    def _prefix_cover(self, forms: frozenset[str]) -> tuple[str, ...]:
        """Few, long prefixes that together start every form: the common prefix of the
        forms of each term ("identif" for identify, identified, identifiers), minus
        those that extend another (its words are found by the shorter one)."""
        by_term: dict[str, list[str]] = {}
        for form in forms:
            by_term.setdefault(self._normalize(form) or form, []).append(form)
        prefixes: set[str] = set()
        for group in by_term.values():
            shared = os.path.commonprefix(group)
            prefixes.update([shared] if shared else group)
        return tuple(
            sorted(p for p in prefixes if not any(p.startswith(q) for q in prefixes if q != p))
        )

    def snippet(
        self,
        texts: tuple[str, ...],
        terms: set[str],
        fragments: int = 3,
        forms: frozenset[str] | None = None,
    ) -> str:
        """Marked fragments of the first text with a match (body, then excerpt), else a lead.

        Up to `fragments` fragments are taken, densest first, and shown in text order;
        from the head of a long text when it holds a match (SNIPPET_SCAN_CHARS).
        """
        for text in texts:
            found = self._snippet_matches(text, terms, forms) if terms and text else []
            if found:
                return self._fragments(text, found, fragments)
        return lead(next((t for t in texts if t.strip()), ""))

    def _snippet_matches(
        self, text: str, terms: set[str], forms: frozenset[str] | None
    ) -> list[_Match]:
        """Matches in the head of the text (up to the last space before
        SNIPPET_SCAN_CHARS), or in all of it when the head has none."""
        if len(text) > SNIPPET_SCAN_CHARS:
            cut = text.rfind(" ", 0, SNIPPET_SCAN_CHARS)
            head = text[: cut if cut > 0 else SNIPPET_SCAN_CHARS]
            found = self.matches(head, terms, forms, _SNIPPET_MATCHES)
            if found:
                return found
        return self.matches(text, terms, forms, _SNIPPET_MATCHES)

    def _fragments(self, text: str, found: list[_Match], fragments: int) -> str:
        windows = sorted(_best_windows(found, fragments), key=lambda w: w[0].start)
        if not windows:  # every match is longer than a fragment (a giant token)
            return lead(text)
        spans = [_span(text, window) for window in windows]
        body = _SEPARATOR.join(
            _mark(text, start, end, window)
            for (start, end), window in zip(spans, windows, strict=True)
        )
        prefix = "…" if spans[0][0] > 0 else ""
        suffix = "…" if spans[-1][1] < len(text) else ""
        return prefix + body + suffix

    def mark(self, text: str, terms: set[str], forms: frozenset[str] | None = None) -> str:
        """The whole text escaped, with every matched word in <mark>."""
        return _mark(text, 0, len(text), self.matches(text, terms, forms) if terms else [])


@lru_cache(maxsize=2048)
def _candidates(terms: frozenset[str]) -> re.Pattern[str]:
    starts = sorted({re.escape(t[:3]) for t in terms if t and t.isascii()})
    alternatives = [rf"(?:{'|'.join(starts)})"] if starts else []
    alternatives.append(r"[^\W_]*[^\x00-\x7f]")  # a word holding a non-ASCII letter
    head = "|".join(alternatives)
    # The match starts at a word start and runs to the end of the token.
    return re.compile(rf"(?<![^\W_])(?:{head})[^\W_]*(?:\.[^\W_]+)*", re.IGNORECASE)


def _longest_form(token: str, forms: frozenset[str]) -> str | None:
    """The longest form that `token` is or begins with, ending where a word ends.

    Tokens are whole words with their inner dots ("node.js"), as the analyzer cuts
    them; a form may also end at one of those dots ("node" in "node.js").
    """
    if token in forms:
        return token
    if "." not in token:
        return None
    for end in range(len(token) - 1, 0, -1):
        if token[end] == "." and token[:end] in forms:
            return token[:end]
    return None


def _without_overlaps(found: list[_Match]) -> list[_Match]:
    """Matches in text order, dropping any that starts inside the one before it."""
    kept: list[_Match] = []
    for match in found:
        if not kept or match.start >= kept[-1].end:
            kept.append(match)
    return kept


def _best_windows(found: list[_Match], fragments: int) -> list[list[_Match]]:
    """Greedily pick non-overlapping windows with the most distinct terms, then most matches.

    A window is a match and the matches after it that end within _FRAGMENT_CHARS of
    its start. Matches never overlap, so starts and ends both rise: each window ends
    where the one before it ended or later, and one pass with a count per term sizes
    them all (a slice and a set per window made this quadratic in the matches).
    """
    starts = [m.start for m in found]
    ends = [m.end for m in found]
    terms = [m.term for m in found]
    one_term = len(set(terms)) == 1
    in_window: dict[str, int] = {}  # term -> matches in found[first:beyond]
    candidates = []
    beyond = 0
    for first, start in enumerate(starts):
        if beyond < first:
            beyond = first
        limit = start + _FRAGMENT_CHARS
        while beyond < len(ends) and ends[beyond] <= limit:
            if not one_term:
                in_window[terms[beyond]] = in_window.get(terms[beyond], 0) + 1
            beyond += 1
        if beyond == first:
            continue  # the match alone is longer than a fragment (a giant token)
        distinct = 1 if one_term else len(in_window)
        candidates.append((distinct, beyond - first, -start, first, beyond))
        if not one_term:
            left = in_window[terms[first]] - 1
            if left:
                in_window[terms[first]] = left
            else:
                del in_window[terms[first]]
    candidates.sort(reverse=True)  # starts differ: first and beyond never decide
    chosen: list[tuple[int, int]] = []  # (first start, last end) of each chosen window
    picked: list[list[_Match]] = []
    for _, _, _, first, beyond in candidates:
        start, end = starts[first] - _CONTEXT_CHARS, ends[beyond - 1] + _CONTEXT_CHARS
        for low, high in chosen:
            if not (end < low - _CONTEXT_CHARS or start > high + _CONTEXT_CHARS):
                break
        else:
            chosen.append((starts[first], ends[beyond - 1]))
            picked.append(found[first:beyond])
            if len(picked) == fragments:
                break
    return picked


def _span(text: str, window: list[_Match]) -> tuple[int, int]:
    start = _word_boundary_before(text, window[0].start - _CONTEXT_CHARS, window[0].start)
    end = _word_boundary_after(text, window[-1].end + _CONTEXT_CHARS, window[-1].end)
    return start, end


def _mark(text: str, start: int, end: int, matches: list[_Match]) -> str:
    """text[start:end] escaped, blanks collapsed, each match in <mark>.

    The marks go in as two control characters and the span is escaped at once:
    escaping each piece between marks was nearly half of marking a fragment. A span
    holding those characters itself is escaped piece by piece instead.
    """
    out, cursor = [], start  # text, _OPEN, marked text, _CLOSE, text, ...
    for match in matches:
        if match.start < cursor or match.end > end:
            continue
        out += (text[cursor : match.start], _OPEN, text[match.start : match.end], _CLOSE)
        cursor = match.end
    out.append(text[cursor:end])
    raw, marks = "".join(out), len(out) // 4
    if raw.count(_OPEN) == raw.count(_CLOSE) == marks:
        escaped = html.escape(raw, quote=True).replace(_OPEN, "<mark>").replace(_CLOSE, "</mark>")
    else:
        tags = {1: "<mark>", 3: "</mark>"}
        escaped = "".join(
            tags.get(number % 4) or html.escape(piece, quote=True)
            for number, piece in enumerate(out)
        )
    return " ".join(escaped.split())


def _word_boundary_before(text: str, position: int, limit: int) -> int:
    """The first whitespace-delimited start at or after `position` (never past `limit`)."""
    if position <= 0:
        return 0
    space = text.find(" ", position, limit)
    newline = text.find("\n", position, limit)
    cuts = [c for c in (space, newline) if c != -1]
    return min(cuts) + 1 if cuts else limit


def _word_boundary_after(text: str, position: int, limit: int) -> int:
    """The last whitespace at or before `position` (never before `limit`)."""
    if position >= len(text):
        return len(text)
    cut = max(text.rfind(" ", limit, position), text.rfind("\n", limit, position))
    return cut if cut != -1 else limit


def lead(text: str) -> str:
    """The escaped first ~200 characters of the text, cut at a word boundary."""
    text = " ".join(text[: _LEAD_CHARS * 2].split())
    if len(text) > _LEAD_CHARS:
        text = text[:_LEAD_CHARS].rsplit(" ", 1)[0] + "…"
    return html.escape(text, quote=True)
