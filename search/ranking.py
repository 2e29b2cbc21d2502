"""Score posts for a query from the build's BM25F matrix: a sum of a few sparse rows.

A query costs one pass over the postings of its terms in numpy (microseconds for a
rare term, about a millisecond for a term in every post of a large blog), instead of
Whoosh's Python matcher tree. Words still being typed expand to their most frequent
completions, bounded by MAX_COMPLETIONS, so a one-letter prefix never scans the
vocabulary term by term. Each build keeps the matrix rows of recent words and the
completions of recent prefixes (WORD_CACHE of each): a suggestion looks its prefix's
completions up three times, and common completions recur across prefixes (an
uncached suggestion 12 % faster, measured in alternating blocks at 10k posts).
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path

import numpy as np

from index.analysis import english_term, highlight_terms, query_terms
from index.lexical import LEXICAL_FILE, LEXICAL_VOCAB_FILE, TITLE_VALUES
from index.mapped import StoredRows, npz_members, read_member

MAX_COMPLETIONS = 20
# Words whose matrix rows and prefixes whose completions each build keeps (a suggestion
# looks up twenty completions, three times over).
WORD_CACHE = 8192


class Ranking:
    """The loaded BM25F index of one build and the word list used for completion."""

    def __init__(self, build_dir: Path) -> None:
        vocabulary = json.loads((build_dir / LEXICAL_VOCAB_FILE).read_text(encoding="utf-8"))
        # Postings are read per query term (see StoredRows), not mapped.
        path = build_dir / LEXICAL_FILE
        members = npz_members(path)  # the archive's directory, read once for all three
        self.weights = StoredRows(path, "weights", members)
        # Which posts' titles hold each term is small (1.2 MB at 57k posts) and read for
        # every completion of a suggestion: held in memory, it costs no system call
        # (suggestions 6-7 % faster).
        held = {"titles_indices": read_member(path, members["titles_indices"])}
        # Builds that keep each title posting's BM25F weight (title_values) rank the
        # posts whose titles match from these alone, held too (1.2 MB more at 57k).
        self.title_weights = vocabulary.get("title_values") == TITLE_VALUES
        if self.title_weights:
            held["titles_data"] = read_member(path, members["titles_data"])
        self.titles = StoredRows(path, "titles", {**members, **held})
        self.posts = self.weights.shape[1]
        self.column = {term: i for i, term in enumerate(vocabulary["terms"])}
        self.words: list[str] = vocabulary["words"]  # sorted
        self.word_df = read_member(path, members["word_df"])
        self._word_row = {word: i for i, word in enumerate(self.words)}
        self._by_stem: dict[str, list[str]] | None = None  # built on first highlight
        self.term_rows = lru_cache(maxsize=WORD_CACHE)(self._term_rows)
        self._completions = lru_cache(maxsize=WORD_CACHE)(self._complete)

    def forms(self, terms: frozenset[str], english: bool) -> frozenset[str]:
        """Every corpus word that analyses to one of `terms` (for exact highlighting)."""
        if not english:
            return terms
        if self._by_stem is None:
            by_stem: dict[str, list[str]] = {}
            for word in self.words:
                stem = english_term(word)
                if stem is not None:
                    by_stem.setdefault(stem, []).append(word)
            self._by_stem = by_stem
        return frozenset(w for t in terms for w in self._by_stem.get(t, (t,)))

    def marks(self, words: Iterable[str]) -> dict[bool, tuple[set[str], frozenset[str]]]:
        """What to highlight for query `words`, per kind of post (English or not): the
        terms and their corpus forms, as `Highlighter.mark` and `snippet` take them."""
        words = tuple(words)
        out = {}
        for english in (True, False):
            terms = highlight_terms(words, english)
            out[english] = (terms, self.forms(frozenset(terms), english))
        return out

    def df(self, word: str) -> int:
        """In how many posts a word appears (0 when it appears nowhere)."""
        row = self._word_row.get(word)
        return int(self.word_df[row]) if row is not None else 0

    def _term_rows(self, word: str) -> tuple[int, ...]:
        """Rows of the matrix a query word matches (English stem, foreign word)."""
        return tuple(self.column[t] for t in query_terms(word) if t in self.column)

    def score(
        self, words: Iterable[str], prefix: str | None = None, rows: np.ndarray | None = None
    ) -> np.ndarray:
        """BM25F score of every post: each distinct term once, plus the best completion
        of `prefix` per post (so a post is not rewarded for holding ten completions).

        With `rows`, the scores of those posts only, in that order, the same values as
        `score(...)[rows]` without adding up every posting (suggest ranks only the posts
        whose titles match).
        """
        size = self.posts if rows is None else len(rows)
        return self._summed(words, prefix, size, lambda row: self._postings(row, rows))

    def title_scores(
        self, words: Iterable[str], prefix: str | None, rows: np.ndarray
    ) -> np.ndarray:
        """Scores of `rows`, posts whose titles hold every indexed word of `words` and,
        with `prefix`, one of its completions (what suggestions list), in that order.

        Each distinct term of `words` adds its weight, as in `score`; the prefix adds
        the best weight among the completions the title holds. Read from the title
        postings, which every worker holds: a suggestion reads no other postings. (A
        completion found only in the body does not count: what ranks a title is what
        it matched on.) Builds without title weights are scored by `score`.
        """
        if not self.title_weights:
            return self.score(words, prefix, rows=rows)
        return self._summed(words, prefix, len(rows), lambda row: self._title_postings(row, rows))

    def _summed(
        self,
        words: Iterable[str],
        prefix: str | None,
        size: int,
        postings: Callable[[int], tuple[np.ndarray, np.ndarray]],
    ) -> np.ndarray:
        """Each distinct term of `words` once, plus the best completion of `prefix`, over
        `size` places; `postings(row)` gives a term row's (places, weights)."""
        scores = np.zeros(size, dtype=np.float32)
        term_rows = dict.fromkeys(r for w in words for r in self.term_rows(w))
        for row in term_rows:
            ids, weights = postings(row)
            scores[ids] += weights
        if prefix:
            best = np.zeros_like(scores)
            for word in self.completions(prefix):
                for row in self.term_rows(word):
                    if row not in term_rows:
                        ids, weights = postings(row)
                        best[ids] = np.maximum(best[ids], weights)
            scores += best
        return scores

    def _title_postings(self, row: int, posts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(places in `posts`, weights) of the posts of `posts` whose titles hold a term."""
        ids, weights = self.titles.row(row)
        places, at = _places_of(posts, ids)
        return places, weights[at]

    def _postings(self, row: int, posts: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """(posts, weights) of a term's row; with `posts`, only the entries of those
        posts, numbered by their place in `posts` (a row's posts are sorted)."""
        if posts is None:
            return self.weights.row(row)
        places, at = _places_of(posts, self.weights.columns(row))
        return places, self.weights.values_at(row, at)

    def containing(self, word: str) -> np.ndarray:
        """Boolean mask of the posts that contain a word (in any field)."""
        mask = np.zeros(self.posts, dtype=bool)
        for row in self.term_rows(word):
            mask[self.weights.columns(row)] = True
        return mask

    def count_in(self, word: str, mask: np.ndarray) -> int:
        """How many posts of a boolean mask contain a word (in any field): the same as
        `(mask & containing(word)).sum()` without building a mask of every post."""
        # A word has at most two rows, its English stem's and its foreign form's, and a
        # post is indexed in one language only: the rows share no post, so their counts
        # add up. (np.unique over both took 1.8 ms per word at 57k posts in two languages.)
        return sum(
            int(np.count_nonzero(mask[self.weights.columns(row)])) for row in self.term_rows(word)
        )

    def posts_with(self, word: str) -> int:
        """How many posts contain a word: `count_in` over every post, read from the row
        pointers alone (a completion of a first word needs no postings read)."""
        return sum(self.weights.length(row) for row in self.term_rows(word))

    def rows_with_term(self, term: str) -> np.ndarray:
        """Boolean mask of the posts indexed under a term (a stem, or a `~` foreign word)."""
        mask = np.zeros(self.posts, dtype=bool)
        row = self.column.get(term)
        if row is not None:
            mask[self.weights.columns(row)] = True
        return mask

    def in_titles(self, word: str, prefix: bool = False) -> np.ndarray:
        """Boolean mask of posts whose title holds the word (or, with prefix, a completion)."""
        mask = np.zeros(self.posts, dtype=bool)
        candidates = self.completions(word) if prefix else [word]
        for candidate in candidates:
            for row in self.term_rows(candidate):
                mask[self.titles.columns(row)] = True
        return mask

    def completions(self, prefix: str, limit: int = MAX_COMPLETIONS) -> list[str]:
        """The `limit` most frequent words starting with `prefix` (see `_complete`)."""
        return list(self._completions(prefix, limit))

    def _complete(self, prefix: str, limit: int) -> tuple[str, ...]:
        """The `limit` most frequent words starting with `prefix`, most frequent first.

        The word itself comes first when it is a word of the corpus. Found by bisection
        in the sorted word list and one partial sort of that range.
        """
        if not prefix:
            return ()
        start = bisect.bisect_left(self.words, prefix)
        end = bisect.bisect_left(self.words, prefix + "\U0010ffff", lo=start)
        if start == end:
            return ()
        frequencies = self.word_df[start:end]
        if end - start > limit:
            top = np.argpartition(-frequencies, limit - 1)[:limit]
        else:
            top = np.arange(end - start)
        order = sorted(top.tolist(), key=lambda i: (-int(frequencies[i]), self.words[start + i]))
        found = [self.words[start + i] for i in order]
        if prefix in self._word_row and prefix not in found:
            found = [prefix, *found[: limit - 1]]
        elif prefix in found:
            found.remove(prefix)
            found.insert(0, prefix)
        return tuple(found)

    def close(self) -> None:
        """Close the postings files (once no request uses this build)."""
        self.weights.close()
        self.titles.close()


def _places_of(posts: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(places in `posts`, positions in `ids`) of the posts found in `ids`, a sorted row."""
    at = np.searchsorted(ids, posts)
    held = at < ids.size
    held[held] = ids[at[held]] == posts[held]
    return np.flatnonzero(held), at[held]
