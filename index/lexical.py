"""The search ranking matrix: BM25F weights of every term in every post, built once.

Whoosh scores a query by walking posting lists in Python (66 ms for a 12-word
question on 5k abstracts); here every (term, post) weight is computed at build time
and a query is a sum of a few sparse rows in numpy. What is kept per build:

- `words.npz` + `words.json`: raw word counts per post and field (title, text) over
  a word vocabulary. Counts, not weights, so an incremental build re-counts only the
  changed posts and re-weighs everything exactly as a full build would.
- `lexical.npz` + `lexical.json`: the term-major BM25F matrix (one row per term, one
  column per post in catalog order), the title matrix used by suggestions (the same
  weights, kept only where the title holds the term), and the word vocabulary with
  document frequencies for completion and spelling.

BM25F: each field's term frequency is normalised by that field's length, weighted,
summed, then saturated once (k1); IDF is Lucene's ln(1 + (N - df + .5) / (df + .5)).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from .analysis import ENGLISH, FOREIGN_PREFIX, english_term, term_of, word_counts
from .mapped import mapped_arrays
from .posts import Post
from .schema import own_excerpt
from .stacking import Counted, add_row, count_tables, kept_row_pointers, stack_rows

WORD_COUNTS_FILE = "words.npz"
WORD_VOCAB_FILE = "words.json"
LEXICAL_FILE = "lexical.npz"
LEXICAL_VOCAB_FILE = "lexical.json"
# What the title matrix holds, recorded in lexical.json: builds before it held 1s.
TITLE_VALUES = "bm25f"
FIELDS = ("title", "text")


@dataclass(frozen=True)
class RankingSettings:
    """BM25F parameters; saved in the manifest, so changing them forces a full build.

    Tuned on BEIR SciFact's train queries (bench/quality.py), reported on its test set.
    """

    k1: float = 1.2
    b_title: float = 0.5
    b_text: float = 0.75
    title_weight: float = 1.5

    def as_dict(self) -> dict[str, float]:
        """JSON-ready form for the manifest."""
        return asdict(self)


def post_fields(post: Post) -> tuple[str, str]:
    """The two searchable texts of a post: its title, and everything else a reader sees.

    The excerpt is left out when it only repeats the start of the body (counting
    those words twice ranks every post by its first paragraph).
    """
    return post.title, _text_field(post, post.body_text)


def _text_field(post: Post, body: str) -> str:
    """A post's text field with `body` for its body."""
    labels = " ".join([c.name for c in post.categories] + list(post.labels))
    parts = (own_excerpt(post), body, labels)
    return "\n".join(part for part in parts if part)


@dataclass
class WordCounts:
    """Word counts per post (rows in catalog order) for each field, one vocabulary."""

    title: sp.csr_matrix
    text: sp.csr_matrix
    vocabulary: list[str]
    langs: list[str]
    # English terms (stems) of words, as far as known: saved with the counts, so an
    # incremental build stems only words it has not seen (Porter in Python takes
    # about 7 µs a word: 0.3 s for 10k posts' vocabulary, in every reindex process).
    stems: dict[str, str | None] = field(default_factory=dict)

    def save(self, out_dir: Path) -> None:
        """Write `words.npz` (both count matrices) and `words.json` (vocabulary, languages,
        each word's English term)."""
        np.savez(  # uncompressed: zlib cost 2.8 s per build at 10k posts
            out_dir / WORD_COUNTS_FILE,
            **_csr_arrays("title", self.title),
            **_csr_arrays("text", self.text),
        )
        payload = {
            "vocabulary": self.vocabulary,
            "langs": self.langs,
            "english_terms": [self.english_term(w) for w in self.vocabulary],
        }
        (out_dir / WORD_VOCAB_FILE).write_text(json.dumps(payload), encoding="utf-8")

    @classmethod
    def load(cls, build_dir: Path) -> WordCounts:
        """Read counts written by `save` (no pickle)."""
        payload = json.loads((build_dir / WORD_VOCAB_FILE).read_text(encoding="utf-8"))
        # Mapped, after checking each member's CRC-32 (workers never read this file).
        data = mapped_arrays(build_dir / WORD_COUNTS_FILE, verify=True)
        title, text = _csr_from(data, "title"), _csr_from(data, "text")
        vocabulary = payload["vocabulary"]
        saved = payload.get("english_terms")  # builds before it was saved: none known
        stems = dict(zip(vocabulary, saved, strict=True)) if saved else {}
        return cls(title, text, vocabulary, payload["langs"], stems)

    def english_term(self, word: str) -> str | None:
        """The term an English post indexes `word` under (known, else stemmed now)."""
        try:
            return self.stems[word]
        except KeyError:
            return english_term(word)


def count_words(
    posts: Sequence[Post], body_words: Sequence[Counter[str] | None] | None = None
) -> WordCounts:
    """Count the words of every post's title and text. `body_words` may give a post's
    body words already counted (see bodies.py; None: count them here)."""
    parts: dict[str, Counted] = {f: ([0], [], []) for f in FIELDS}
    for i, post in enumerate(posts):
        counted_body = body_words[i] if body_words else None
        add_row(parts["title"], word_counts(post.title))
        if counted_body is None:
            text = word_counts(post_fields(post)[1])
        else:  # words never cross the line breaks that join the parts: count them apart
            text = Counter(counted_body)  # a copy in C; then the few other words
            text.update(word_counts(_text_field(post, "")))
        add_row(parts["text"], text)
    matrices, vocabulary = count_tables(len(posts), [parts[f] for f in FIELDS])
    return WordCounts(*matrices, vocabulary, [p.lang for p in posts])


def stack_word_counts(tables: Sequence[WordCounts], order: Sequence[tuple[int, int]]) -> WordCounts:
    """The rows `order` names ((table, row) pairs), in its order, over one vocabulary.

    Words no remaining row uses are dropped, so the result equals counting the same
    posts from scratch.
    """
    (title, text), vocabulary = stack_rows(
        [((table.title, table.text), table.vocabulary) for table in tables], order, 2
    )
    langs = [tables[table].langs[row] for table, row in order]
    stems = {word: term for table in tables for word, term in table.stems.items()}
    return WordCounts(title, text, vocabulary, langs, stems)


@dataclass
class LexicalIndex:
    """What a search needs: BM25F rows per term, title presence, words and their df."""

    terms: list[str]
    weights: sp.csr_matrix  # terms x posts, float32
    titles: sp.csr_matrix  # terms x posts: the BM25F weight where the term is in the title
    words: list[str]  # sorted
    word_df: np.ndarray  # int32, posts containing each word

    def save(self, out_dir: Path) -> None:
        """Write `lexical.npz` (uncompressed: it is loaded by every worker) and `.json`."""
        np.savez(
            out_dir / LEXICAL_FILE,
            **_csr_arrays("weights", self.weights),
            **_csr_arrays("titles", self.titles),
            word_df=self.word_df,
        )
        payload = {"terms": self.terms, "words": self.words, "title_values": TITLE_VALUES}
        (out_dir / LEXICAL_VOCAB_FILE).write_text(json.dumps(payload), encoding="utf-8")

    @classmethod
    def load(cls, build_dir: Path) -> LexicalIndex:
        """Open an index written by `save` (no pickle); the matrices are memory-mapped,
        so workers share them and read only the postings their queries touch."""
        payload = json.loads((build_dir / LEXICAL_VOCAB_FILE).read_text(encoding="utf-8"))
        data = mapped_arrays(build_dir / LEXICAL_FILE)
        weights, titles = _csr_from(data, "weights"), _csr_from(data, "titles")
        return cls(payload["terms"], weights, titles, payload["words"], data["word_df"])


def weigh(counts: WordCounts, settings: RankingSettings) -> LexicalIndex:
    """Turn word counts into the BM25F term matrix and the word statistics.

    At 57k posts the text counts hold 36 million entries (a matrix of them is about
    290 MB), so rows are scaled and weights applied in place, and each intermediate
    is dropped as soon as the next exists: the build's peak memory is set here.
    """
    posts = counts.title.shape[0]
    word_df = _word_df(counts)
    mapping, terms = _word_to_term(counts)
    kinds = [_lang_key(x) for x in counts.langs]
    title = _per_term(counts.title, kinds, mapping, len(terms))
    in_title = title > 0
    frequency: sp.csr_matrix | None = None
    for counted, weight, b in (
        (title, settings.title_weight, settings.b_title),
        (_per_term(counts.text, kinds, mapping, len(terms)), 1.0, settings.b_text),
    ):
        lengths = np.asarray(counted.sum(axis=1)).ravel()
        average = lengths.mean() if posts and lengths.mean() > 0 else 1.0
        norm = (1.0 - b + b * lengths / average).astype(np.float32)
        _scale_rows(counted, (weight / norm).astype(np.float32))
        frequency = counted if frequency is None else (frequency + counted).tocsr()
    del title, counted
    assert frequency is not None
    frequency.eliminate_zeros()
    df = np.bincount(frequency.indices, minlength=len(terms)).astype(np.float64)
    # A word's rarity is measured over every post, whatever its language: a post
    # detected as French must not make "the" a rare term that outranks everything.
    word_column = {w: i for i, w in enumerate(counts.vocabulary)}
    for i, term in enumerate(terms):
        if term.startswith(FOREIGN_PREFIX):
            df[i] = max(df[i], word_df[word_column[term[len(FOREIGN_PREFIX) :]]])
    idf = np.log1p((posts - df + 0.5) / (df + 0.5)).astype(np.float32)
    saturated = frequency.data  # BM25 saturation, then IDF, in place
    np.divide(
        saturated * np.float32(settings.k1 + 1), saturated + np.float32(settings.k1), out=saturated
    )
    saturated *= idf[frequency.indices]
    titles = _title_weights(frequency, in_title)
    weights = frequency.T.tocsr()
    del frequency
    return LexicalIndex(
        terms, weights.astype(np.float32, copy=False), titles, counts.vocabulary, word_df
    )


def _title_weights(frequency: sp.csr_matrix, in_title: sp.csr_matrix) -> sp.csr_matrix:
    """terms x posts: each term's whole BM25F weight in each post whose title holds it.

    Suggestions rank the posts whose titles match from these alone (every worker holds
    them), without reading the postings of every completion. `frequency` holds the
    weights (posts x terms) and `in_title` where titles hold terms; every title entry
    has a positive weight, so the product keeps exactly the title entries.
    """
    titles = frequency.multiply(in_title).T.tocsr().astype(np.float32)
    if titles.nnz != in_title.nnz:
        raise AssertionError("a term in a title got no weight")
    return titles


def _word_df(counts: WordCounts) -> np.ndarray:
    """In how many posts each word appears, in the title or the text (int32)."""
    size = len(counts.vocabulary)
    both = counts.title.multiply(counts.text).tocsr()  # at most the title's entries
    both.eliminate_zeros()
    df = np.bincount(counts.title.indices, minlength=size)
    df += np.bincount(counts.text.indices, minlength=size)
    df -= np.bincount(both.indices, minlength=size)
    return df.astype(np.int32)


def _per_term(
    counts: sp.csr_matrix, kinds: Sequence[str], mapping: dict[str, np.ndarray], terms: int
) -> sp.csr_matrix:
    """Word counts summed per term (posts x terms, float32), each post by its language.

    Every word has one term per language kind, so each entry's column is looked up in
    its post's kind's map and the words of one term are summed; the same as
    multiplying by 0/1 word-to-term matrices, at half the time for mixed languages.
    """
    if len(mapping) == 1:
        columns = next(iter(mapping.values()))[counts.indices]
    else:
        english = np.array([kind == ENGLISH for kind in kinds], dtype=bool)
        foreign = ~np.repeat(english, np.diff(counts.indptr))
        columns = mapping[ENGLISH][counts.indices]
        columns[foreign] = mapping["other"][counts.indices[foreign]]
        del foreign
    kept = columns >= 0
    matrix = sp.csr_matrix(
        (
            counts.data[kept].astype(np.float32),
            columns[kept],
            kept_row_pointers(kept, counts.indptr),
        ),
        shape=(counts.shape[0], terms),
    )
    matrix.sum_duplicates()  # sorts each row's columns and adds the words of one term
    return matrix


def _scale_rows(matrix: sp.csr_matrix, factors: np.ndarray) -> None:
    """Multiply each row of a CSR matrix by its factor, in place."""
    matrix.data *= np.repeat(factors, np.diff(matrix.indptr))


def _lang_key(lang: str) -> str:
    return ENGLISH if lang == ENGLISH else "other"


def _word_to_term(counts: WordCounts) -> tuple[dict[str, np.ndarray], list[str]]:
    """Per language kind, each word's term column (-1 for a word with no term), and
    the sorted terms."""
    vocabulary = counts.vocabulary
    needed = {_lang_key(x) for x in counts.langs}
    found = {
        lang: [counts.english_term(w) if lang == ENGLISH else term_of(w, lang) for w in vocabulary]
        for lang in needed
    }
    terms = sorted({t for kind in found.values() for t in kind if t is not None})
    column = {t: i for i, t in enumerate(terms)}
    mapping = {
        lang: np.array([-1 if t is None else column[t] for t in kind], dtype=np.int32)
        for lang, kind in found.items()
    }
    return mapping, terms


def _csr_arrays(name: str, matrix: sp.csr_matrix) -> dict[str, np.ndarray]:
    matrix = matrix.tocsr()
    return {
        f"{name}_data": matrix.data,
        f"{name}_indices": matrix.indices,
        f"{name}_indptr": matrix.indptr,
        f"{name}_shape": np.array(matrix.shape, dtype=np.int64),
    }


def _csr_from(data, name: str) -> sp.csr_matrix:
    """A CSR matrix over the saved arrays. The row pointers take the column indices'
    type (they are small), so scipy keeps the large arrays as they are, mapped or not."""
    shape = tuple(int(x) for x in data[f"{name}_shape"])
    indices = data[f"{name}_indices"]
    indptr = np.asarray(data[f"{name}_indptr"])
    if indptr.size and int(indptr[-1]) <= np.iinfo(indices.dtype).max:
        indptr = indptr.astype(indices.dtype)
    return sp.csr_matrix((data[f"{name}_data"], indices, indptr), shape=shape, copy=False)
