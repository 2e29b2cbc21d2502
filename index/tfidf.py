"""TF-IDF vectors of the posts, computed from raw term counts kept with every build.

Keeping the counts (not just the weights) is what makes incremental builds exact:
when posts change, only their rows are counted again, document frequencies and IDF
are recomputed from all rows, and the weighted matrix is the same as a full build's.
Everything is saved as `.npz` + JSON, never pickle. Rows follow the catalog (`posts.jsonl`).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from .blanking import ASCII_WORD_CHARACTERS, blank, blanking_table, pieces, resplit
from .mapped import mapped_arrays
from .posts import Post
from .stacking import Counted, add_row, count_tables, kept_row_pointers, stack_rows

COUNTS_FILE = "terms.npz"
TERMS_FILE = "terms.json"
MATRIX_FILE = "tfidf.npz"
VOCAB_FILE = "tfidf.json"

# scikit-learn's token pattern, (?u)\b\w\w+\b: maximal runs of two or more word characters.
TERM_TOKEN = re.compile(r"\w\w+")
_TOKEN_BYTES = blanking_table(ASCII_WORD_CHARACTERS)
_ASCII_BYTES = bytes(range(0x80))


@dataclass
class TermCounts:
    """Raw term counts, one row per post, over a sorted vocabulary of every term seen,
    and the stop words the counts leave out."""

    counts: sp.csr_matrix
    vocabulary: list[str]
    stop_words: frozenset[str]

    def save(self, out_dir: Path) -> None:
        """Write `terms.npz` (counts) and `terms.json` (vocabulary and stop words).

        The stop words are kept with the counts so that an incremental build counts its
        changed posts the same way without importing scikit-learn for its list (about a
        second, half of an incremental build at 10k posts).
        """
        # Uncompressed: zlib took 2.4 of an incremental build's 11 s at 10k posts.
        sp.save_npz(out_dir / COUNTS_FILE, self.counts, compressed=False)
        payload = {"vocabulary": self.vocabulary, "stop_words": sorted(self.stop_words)}
        (out_dir / TERMS_FILE).write_text(json.dumps(payload), encoding="utf-8")

    @classmethod
    def load(cls, build_dir: Path) -> TermCounts:
        """Read counts saved by `save` (a CSR matrix in scipy's `.npz` layout): mapped
        read-only, after checking each member's CRC-32 (no pickle)."""
        arrays = mapped_arrays(build_dir / COUNTS_FILE, verify=True)
        if arrays["format"].item() not in (b"csr", "csr"):  # scipy saves it as bytes
            raise ValueError(f"{COUNTS_FILE} does not hold a CSR matrix")
        shape = tuple(int(x) for x in arrays["shape"])
        counts = sp.csr_matrix(
            (arrays["data"], arrays["indices"], arrays["indptr"]), shape=shape, copy=False
        )
        payload = json.loads((build_dir / TERMS_FILE).read_text(encoding="utf-8"))
        saved = payload.get("stop_words")  # builds before it was saved: scikit-learn's
        stop_words = frozenset(saved) if saved is not None else english_stop_words()
        return cls(counts, payload["vocabulary"], stop_words)


@dataclass
class TfidfModel:
    """The L2-normalised TF-IDF rows and the vocabulary and IDF that produced them."""

    matrix: sp.csr_matrix
    vocabulary: list[str]
    idf: np.ndarray

    def save(self, out_dir: Path) -> None:
        """Write `tfidf.npz` (matrix) and `tfidf.json` (vocabulary and IDF)."""
        sp.save_npz(out_dir / MATRIX_FILE, self.matrix, compressed=False)
        payload = {"vocabulary": self.vocabulary, "idf": [round(float(x), 6) for x in self.idf]}
        (out_dir / VOCAB_FILE).write_text(json.dumps(payload), encoding="utf-8")


def post_text(post: Post, body: str | None = None) -> str:
    """The text a post is compared by: title twice (it says most), excerpt, body (or
    `body` instead of it).

    Categories and tags are left out: the taxonomy part of the related score weighs
    them by level and rarity, and counting them here too would count them twice.
    """
    return "\n".join(
        (post.title, post.title, post.excerpt, post.body_text if body is None else body)
    )


def fold_text(text: str) -> str:
    """Lower-cased, accents stripped: scikit-learn's `lowercase` and
    `strip_accents="unicode"`, with the same result.

    scikit-learn tests each character of a non-ASCII text in Python; here only the
    distinct characters of the decomposed text are tested, and `str.translate` drops
    the combining marks among them (about 6x faster; a real blog's posts are seldom
    pure ASCII: curly quotes, dashes, names).
    """
    text = text.lower()
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    # The distinct non-ASCII characters, found after deleting every ASCII byte in C (a
    # set of all the 8,000 characters of a post was most of the time folding it took).
    others = decomposed.encode("utf-8", "surrogatepass").translate(None, _ASCII_BYTES)
    distinct = set(others.decode("utf-8", "surrogatepass"))
    marks = {ord(c): None for c in distinct if unicodedata.combining(c)}
    return decomposed.translate(marks) if marks else decomposed


@cache
def english_stop_words() -> frozenset[str]:
    """scikit-learn's English stop words, imported on first use: importing scikit-learn
    takes about a second and 68 MB. Only a full build needs it (an incremental build
    reads the list its previous build saved, see TermCounts); API workers never do."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return ENGLISH_STOP_WORDS


def post_terms(
    post: Post, stop_words: frozenset[str], body_terms: Counter[str] | None = None
) -> Counter[str]:
    """How often each term occurs in the text a post is compared by, leaving out
    `stop_words`: with scikit-learn's English list, what its
    CountVectorizer(stop_words="english", strip_accents="unicode") counts (tested
    against it), for the build's posts and a draft alike.

    scikit-learn looks each token up in Python, one at a time; here the tokens are
    counted by `Counter` (in C) and stop words dropped from the distinct terms. Its
    token pattern (two or more word characters between word boundaries) finds the
    maximal runs of two or more word characters, which `TERM_TOKEN` finds left to right
    without testing two word boundaries at every position (0.86 -> 0.67 ms for a post
    of 7,700 characters, both changes together). `body_terms`, when given, are the
    body's tokens already counted (see bodies.py).
    """
    if body_terms is None:
        counted = _token_counts(fold_text(post_text(post)))
    else:  # tokens never cross the line breaks that join the parts: count them apart
        counted = Counter(body_terms)  # a copy in C; then the title's and excerpt's
        counted.update(_token_counts(fold_text(post_text(post, body=""))))
    for stop_word in stop_words.intersection(counted):
        del counted[stop_word]
    return counted


def _token_counts(folded: str) -> Counter[str]:
    """`Counter(TERM_TOKEN.findall(folded))`, split in C (see blanking.py): only the
    distinct pieces holding non-ASCII characters, and one-character pieces (no token),
    need Python."""
    blanked = blank(folded, _TOKEN_BYTES)
    counted = Counter(pieces(blanked))
    if blanked.isascii():  # the only pieces to drop are single characters: look them up
        unplain = [c for c in ASCII_WORD_CHARACTERS if c in counted]
    else:
        unplain = [p for p in counted if len(p) < 2 or not p.isascii()]
    return resplit(counted, unplain, TERM_TOKEN.findall)


def count_terms(
    posts: Sequence[Post],
    stop_words: frozenset[str] | None = None,
    body_terms: Sequence[Counter[str] | None] | None = None,
) -> TermCounts:
    """Count every term of every post (see post_terms), over a sorted vocabulary,
    leaving out `stop_words` (scikit-learn's English list unless given). `body_terms`
    may give a post's body tokens already counted (None: count them here)."""
    stop_words = english_stop_words() if stop_words is None else stop_words
    table: Counted = ([0], [], [])
    for i, post in enumerate(posts):
        add_row(table, post_terms(post, stop_words, body_terms[i] if body_terms else None))
    (counts,), vocabulary = count_tables(len(posts), [table])
    return TermCounts(counts, vocabulary, stop_words)


def stack_counts(tables: Sequence[TermCounts], order: Sequence[tuple[int, int]]) -> TermCounts:
    """The rows `order` names ((table, row) pairs), in its order, over one vocabulary.

    Terms no remaining row uses are dropped, so the result equals counting the same
    posts from scratch.
    """
    stop_words = {table.stop_words for table in tables}
    if len(stop_words) != 1:
        raise ValueError("term counts left out different stop words: they cannot be joined")
    (counts,), vocabulary = stack_rows(
        [((table.counts,), table.vocabulary) for table in tables], order, 1
    )
    return TermCounts(counts, vocabulary, stop_words.pop())


def weigh_counts(table: TermCounts) -> TfidfModel:
    """TF-IDF exactly as scikit-learn's TfidfVectorizer(sublinear_tf=True) computes it.

    Terms in more than half the posts (once there are 20) say little and are dropped;
    from 500 posts on, so are terms of a single post (typos, one-off names).
    """
    total = table.counts.shape[0]
    document_frequency = np.bincount(table.counts.indices, minlength=len(table.vocabulary))
    min_df = 1 if total < 500 else 2
    max_df = 0.5 * total if total >= 20 else total
    kept = np.flatnonzero((document_frequency >= min_df) & (document_frequency <= max_df))
    if kept.size == 0:  # pruning would leave nothing: keep every term instead
        kept = np.flatnonzero(document_frequency)
    idf = (np.log((1 + total) / (1 + document_frequency[kept])) + 1).astype(np.float32)
    weights = _kept_columns(table.counts, kept)
    np.log(weights.data, out=weights.data)  # sublinear tf: 1 + log(count)
    weights.data += 1.0
    weights.data *= idf[weights.indices]
    normalise_rows(weights)
    return TfidfModel(weights, [table.vocabulary[i] for i in kept], idf)


def _kept_columns(counts: sp.csr_matrix, kept: np.ndarray) -> sp.csr_matrix:
    """The counts of the `kept` columns (sorted), renumbered, as a new float32 matrix.

    Built from a mask over the entries: at 57k posts a column selection and a type
    conversion each copied all 31 million entries, and both copies were alive at once.
    """
    keep = np.zeros(counts.shape[1], dtype=bool)
    keep[kept] = True
    new_column = (np.cumsum(keep) - 1).astype(np.int32)
    entries = keep[counts.indices]
    indptr = kept_row_pointers(entries, counts.indptr)
    indices = new_column[counts.indices[entries]]
    data = counts.data[entries].astype(np.float32)
    return sp.csr_matrix((data, indices, indptr), shape=(counts.shape[0], kept.size), copy=False)


def mapped_matrix(build_dir: Path) -> sp.csr_matrix:
    """The build's TF-IDF matrix over memory-mapped arrays (a worker's copy would be
    about 4 KB per post; mapped, workers share it and read only the rows they use)."""
    arrays = mapped_arrays(build_dir / MATRIX_FILE)
    if bytes(arrays["format"]) != b"csr":
        raise ValueError(f"{MATRIX_FILE} is not a CSR matrix")
    shape = tuple(int(x) for x in arrays["shape"])
    return sp.csr_matrix(
        (arrays["data"], arrays["indices"], arrays["indptr"]), shape=shape, copy=False
    )


def l2_normalise(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """The rows scaled to unit length (empty rows stay empty), as float32."""
    matrix = matrix.tocsr()
    scale = np.repeat(_inverse_norms(matrix), np.diff(matrix.indptr))
    result = sp.csr_matrix(
        ((matrix.data * scale).astype(np.float32), matrix.indices.copy(), matrix.indptr.copy()),
        shape=matrix.shape,
    )
    result.eliminate_zeros()
    return result


def normalise_rows(matrix: sp.csr_matrix) -> None:
    """Scale each row of a float32 CSR matrix to unit length, in place (the same
    result as `l2_normalise`, without a second copy of a large matrix)."""
    matrix.data *= np.repeat(_inverse_norms(matrix), np.diff(matrix.indptr))


def _inverse_norms(matrix: sp.csr_matrix) -> np.ndarray:
    """1 / each row's length (1 for an empty row), as float32; the squares share the
    matrix's index arrays rather than copying them."""
    squares = sp.csr_matrix(
        (matrix.data * matrix.data, matrix.indices, matrix.indptr), shape=matrix.shape
    )
    norms = np.sqrt(np.asarray(squares.sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return (1.0 / norms).astype(np.float32)


def strongest_terms(matrix: sp.csr_matrix, terms: int) -> sp.csr_matrix:
    """Each row's `terms` largest weights (ties at the cut may keep a few more)."""
    matrix = matrix.tocsr(copy=True)
    for row in range(matrix.shape[0]):
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        if end - start > terms:
            weights = matrix.data[start:end]
            weights[weights < np.partition(weights, end - start - terms)[end - start - terms]] = 0
    matrix.eliminate_zeros()
    return matrix
