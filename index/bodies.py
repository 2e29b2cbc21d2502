"""A post body's words and TF-IDF terms, counted from one split of its text.

The body is most of what a full build tokenises, and it was split twice: into words for
the ranking matrix (`analysis.word_counts`) and into terms for TF-IDF
(`tfidf.post_terms`). Both lowercase first, both blank curly quotes, dashes, the
ellipsis and the no-break space, and they differ only in the ASCII characters a token
may hold besides letters and digits: words join with inner dots (`node.js`), terms with
underscores (`snake_case`) and from two characters. So when the lowercased body is ASCII
once those marks are blanked (nearly every English post), one split that keeps letters,
digits, dots and underscores serves both: a piece of letters and digits alone is a word
as it stands, and a term from two characters; the few distinct pieces holding a dot or
an underscore are tokenised again by each side's own rule.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from .analysis import words
from .blanking import ASCII_ALNUM, ASCII_WORD_CHARACTERS, blank, blanking_table, pieces, resplit
from .tfidf import TERM_TOKEN

_SHARED_BYTES = blanking_table(ASCII_WORD_CHARACTERS + ".")


@dataclass(frozen=True)
class BodyCounts:
    """A body's counts, as each tokeniser alone would count them."""

    words: Counter[str]  # analysis.word_counts(body)
    terms: Counter[str]  # Counter(TERM_TOKEN.findall(fold_text(body))), stop words kept


def body_counts(body: str) -> BodyCounts | None:
    """Both counts of `body` from one split, or None when its lowercased text holds
    other characters than ASCII and the marks both tokenisers blank (each side then
    counts it on its own)."""
    blanked = blank(body.lower(), _SHARED_BYTES)
    if not blanked.isascii():
        return None
    # A dot next to a blank joins nothing, for either side (see analysis.word_counts).
    blanked = blanked.replace(b". ", b"  ").replace(b" .", b"  ")
    counted = Counter(pieces(blanked))
    if b"." in blanked or b"_" in blanked:
        joined = [piece for piece in counted if "." in piece or "_" in piece]
    else:
        joined = []
    word_counts = resplit(Counter(counted), joined, words)
    single = [character for character in ASCII_ALNUM if character in counted]
    term_counts = resplit(counted, joined + single, TERM_TOKEN.findall)
    return BodyCounts(word_counts, term_counts)
