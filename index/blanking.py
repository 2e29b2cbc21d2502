"""Split text into word pieces in C: the tokenisers' fast path.

A regular expression costs 30-65 ns per character of a post. Turning every ASCII byte
that cannot be part of a token into a space (`bytes.translate`, one table lookup per
byte) and splitting on blanks finds the same tokens for plain ASCII text at a fraction
of that; the bytes of non-ASCII characters are kept, so a piece holding one is handed
back to the regular expression (no token crosses a blank, so tokenising each piece
finds the text's tokens).
"""

from __future__ import annotations

import string
from collections import Counter
from collections.abc import Callable, Iterable

ASCII_LETTERS = string.ascii_letters
ASCII_ALNUM = string.ascii_letters + string.digits
# The ASCII characters of a regular expression's \w.
ASCII_WORD_CHARACTERS = ASCII_ALNUM + "_"
# Non-ASCII characters of English prose that no tokeniser keeps (curly quotes, dashes,
# the ellipsis, the no-break space): blanked too, or "it’s" would be a piece to re-split.
_PUNCTUATION = tuple(c.encode() for c in "\u2019\u2018\u201c\u201d\u2014\u2013\u2026\u00a0")


def blanking_table(keep: str) -> bytes:
    """A `bytes.translate` table turning every ASCII byte but `keep`'s into a space;
    the bytes of non-ASCII characters stay, so the result is still UTF-8."""
    return bytes(b if b >= 0x80 or chr(b) in keep else 0x20 for b in range(256))


def blank(text: str, table: bytes) -> bytes:
    """`text` as UTF-8 with the bytes `table` blanks, and common punctuation outside
    ASCII, turned into spaces."""
    blanked = text.encode("utf-8", "surrogatepass").translate(table)
    if not text.isascii():
        for mark in _PUNCTUATION:
            blanked = blanked.replace(mark, b" ")
    return blanked


def pieces(blanked: bytes) -> list[str]:
    """The blank-separated pieces of a text `blank` made."""
    return blanked.decode("utf-8", "surrogatepass").split()


def resplit(
    counted: Counter[str], unplain: list[str], tokenise: Callable[[str], Iterable[str]]
) -> Counter[str]:
    """`counted` (pieces and their counts) with each piece of `unplain` replaced by its
    tokens, each counted as often as the piece was."""
    for piece in unplain:
        times = counted.pop(piece)
        for token in tokenise(piece):
            counted[token] += times
    return counted
