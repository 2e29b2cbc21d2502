"""Turn a post's Markdown (with raw HTML, template code and mojibake) into plain text.

The index, the TF-IDF vectors and the snippets all read this plain text, so what a
reader sees on the page is what the search matches: headings, list items, quotes,
link text and image alt text stay; tags, scripts, styles and template code go.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import ftfy
import pyromark

# Liquid comments lose their content; every other template tag loses only itself,
# so the text between a paired shortcode ({{% notice %}}...{{% /notice %}}) stays.
_LIQUID_COMMENT = re.compile(r"\{%-?\s*comment\s*-?%\}.*?\{%-?\s*endcomment\s*-?%\}", re.S)
# A run of tags with the blanks around them: removed, it must not leave an indent
# that turns the rest of the line into a code block (see _without_tags).
_TEMPLATE_TAGS = re.compile(r"([ \t]*)(?:(?:\{%.*?%\}|\{\{.*?\}\})[ \t]*)+", re.S)
# A tag left open (a broken file) is dropped up to the end of its line.
_UNCLOSED_TAG = re.compile(r"\{%[^\n]*|\{\{[^\n]*")
_CONTROL = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd\u200b-\u200f\u202a-\u202e\u2066-\u2069]"
)
_MOJIBAKE_HINT = re.compile("[\u00c2\u00c3\u00c5\u00e2\u00ef\u0080-\u009f]")
_FTFY_CONFIG = ftfy.TextFixerConfig(uncurl_quotes=False, normalization="NFC", explain=False)
_SPACES = re.compile(r"[ \t\u00a0]+")
# Every character str.isspace() accepts except space, tab, no-break space and "\n".
OTHER_WHITESPACE_CHARS = (
    "\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_OTHER_WHITESPACE = re.compile(f"[{OTHER_WHITESPACE_CHARS}]")
_BLANK_LINES = re.compile(r"\n\s*\n+")

# CommonMark with GitHub's tables and strikethrough, parsed by pulldown-cmark (Rust):
# a post's Markdown costs about 0.02 ms there against 0.6 ms in a Python parser.
_OPTIONS = pyromark.Options.ENABLE_TABLES | pyromark.Options.ENABLE_STRIKETHROUGH

# Blocks whose text is one run of inline content: a reader sees it as one paragraph.
_RUN_KINDS = {"Paragraph": "paragraph", "Item": "item", "TableCell": "cell"}


class _TextExtractor(HTMLParser):
    """Collect the visible text of an HTML fragment, dropping script and style bodies."""

    _INVISIBLE = {"script", "style", "noscript", "template", "iframe", "svg", "head"}
    _BREAKING = {
        "p",
        "div",
        "br",
        "li",
        "tr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "section",
        "article",
        "blockquote",
        "pre",
        "table",
        "ul",
        "ol",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._INVISIBLE:
            self._hidden_depth += 1
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt and not self._hidden_depth:
                self.parts.append(f" {alt} ")
        elif tag in self._BREAKING:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._INVISIBLE:
            self._hidden_depth = max(0, self._hidden_depth - 1)
        elif tag in self._BREAKING:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden_depth:
            self.parts.append(data)


def html_to_text(fragment: str) -> str:
    """Return the visible text of an HTML fragment (entities decoded, scripts dropped)."""
    extractor = _TextExtractor()
    extractor.feed(fragment)
    extractor.rawdata = ""  # an unfinished tag or comment at the end is markup, not text
    extractor.close()
    return "".join(extractor.parts)


def repair_text(text: str) -> str:
    """Fix mojibake ("donâ€™t"), drop control and invisible characters, normalise to NFC.

    ftfy is slow (milliseconds per post), so it only runs on text holding one of the
    characters that UTF-8-read-as-Latin-1 damage always produces.
    """
    if _MOJIBAKE_HINT.search(text):
        text = ftfy.fix_text(text, _FTFY_CONFIG)
    else:
        text = unicodedata.normalize("NFC", text)
    return _CONTROL.sub("", text)


def strip_template_code(markdown: str) -> str:
    """Remove Liquid and Hugo template tags and shortcodes, keeping the prose between them."""
    if "{%" not in markdown and "{{" not in markdown:
        # No tag can match. Most posts have none, and _TEMPLATE_TAGS, which may start
        # with blanks, is tried at every position (a quarter of parsing a post).
        return markdown
    closed = _TEMPLATE_TAGS.sub(_without_tags, _LIQUID_COMMENT.sub(" ", markdown))
    return _UNCLOSED_TAG.sub(" ", closed)


def _without_tags(match: re.Match[str]) -> str:
    """What a run of tags leaves: a space between words, or the line's own indent when
    the run starts a line ("{% raw %} <script>" must not become a four-space indent)."""
    start = match.start()
    at_line_start = start == 0 or match.string[start - 1] == "\n"
    return match.group(1) if at_line_start else " "


@dataclass(frozen=True)
class RenderedText:
    """Plain text of a Markdown document, plus its first heading and first paragraph,
    and (when asked for) its HTML, not yet sanitised."""

    text: str
    first_heading: str | None
    first_paragraph: str | None
    html: str = ""


def render_markdown(markdown: str, html: bool = False) -> RenderedText:
    """Render Markdown with a real parser and return its readable plain text.

    The text is read from the parser's events: each block's inline text is one run,
    and runs are separated by blank lines. With `html`, the post page's HTML is
    rendered from the same cleaned source (pulldown-cmark writes it in Rust).
    """
    source = strip_template_code(repair_text(markdown))
    reader = _EventText()
    reader.read(pyromark.events(source, options=_OPTIONS))
    rendered = pyromark.html(source, options=_OPTIONS) if html else ""
    text = tidy_whitespace("".join(reader.parts))
    return RenderedText(text, reader.heading, reader.paragraph, rendered)


class _EventText:
    """Plain text of a stream of pulldown-cmark events, plus the first heading and the
    first paragraph of more than three words (a tight list item's text counts as one,
    as it does for a reader)."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.heading: str | None = None
        self.paragraph: str | None = None
        self._run: list[str] = []
        self._kind: str | None = None
        self._hidden = 0  # open <script>/<style> tags in the current run
        self._html: list[str] | None = None  # an HTML block's source, while in one
        self._code = False

    def read(self, events: Iterable[Any]) -> None:
        run = self._run
        for event in events:
            if type(event) is str:  # SoftBreak, HardBreak, Rule
                if event == "Rule":
                    self._end_run()
                elif not self._hidden:
                    run.append(" ")
                continue
            text = event.get("Text")
            if text is not None:
                if self._code:
                    self.parts.append(text)
                elif not self._hidden:
                    run.append(text)
            elif "Start" in event:
                self._start(event["Start"])
            elif "End" in event:
                self._end(event["End"])
            elif "Code" in event:
                if not self._hidden:
                    run.append(event["Code"])
            elif "InlineHtml" in event:
                self._inline_html(event["InlineHtml"])
            elif "Html" in event:
                if self._html is not None:
                    self._html.append(event["Html"])
                else:  # raw HTML outside a block: read as an inline tag
                    self._inline_html(event["Html"])
        self._end_run()

    def _start(self, tag: Any) -> None:
        name = self._block(tag)
        if name == "Heading":
            self._kind = "heading"
        elif name in _RUN_KINDS:
            self._kind = _RUN_KINDS[name]
        elif name == "CodeBlock":
            self._code = True
        elif name == "HtmlBlock":
            self._html = []

    def _end(self, tag: Any) -> None:
        name = self._block(tag)
        if name == "CodeBlock":
            self._code = False
            self.parts.append("\n\n")
        elif name == "HtmlBlock":
            self.parts.append(html_to_text("".join(self._html or ())))
            self.parts.append("\n\n")
            self._html = None

    def _block(self, tag: Any) -> str | None:
        """The name of the block a Start or End event opens or closes, after closing the
        current run; None for an inline tag, which adds no break."""
        name = tag if type(tag) is str else next(iter(tag))
        if name in _INLINE_TAGS:
            return None
        self._end_run()
        return name

    def _end_run(self) -> None:
        """Close the current block's run of inline text."""
        run, kind = self._run, self._kind
        self._kind = None
        self._hidden = 0
        if not run:
            return
        text = "".join(run)
        run.clear()
        self.parts.append(text)
        self.parts.append("\n\n")
        if kind == "heading":
            if self.heading is None and text.strip():
                self.heading = text.strip()
        elif kind in ("paragraph", "item") and self.paragraph is None:
            words = text.split()
            if len(words) > 3:
                self.paragraph = " ".join(words)

    def _inline_html(self, tag: str) -> None:
        """Hide the text between an inline <script>/<style> pair; keep an <img>'s alt."""
        if _HIDING_CLOSE.match(tag):
            self._hidden = max(0, self._hidden - 1)
        elif _HIDING_OPEN.match(tag) and not tag.endswith("/>"):
            self._hidden += 1
        elif tag.lower().startswith("<img") and not self._hidden:
            self._run.append(html_to_text(tag))


# Tags inside a run of inline text: they add no break.
_INLINE_TAGS = {
    "Emphasis",
    "Strong",
    "Strikethrough",
    "Link",
    "Image",
    "Superscript",
    "Subscript",
}


def markdown_to_text(markdown: str) -> str:
    """Plain text of a Markdown document (see `render_markdown`)."""
    return render_markdown(markdown).text


_HIDING_OPEN = re.compile(r"<\s*(script|style|noscript|template)\b", re.I)
_HIDING_CLOSE = re.compile(r"<\s*/\s*(script|style|noscript|template)\s*>", re.I)


def tidy_whitespace(text: str) -> str:
    """Collapse runs of spaces and blank lines so snippets and excerpts read cleanly.

    Text whose only whitespace is spaces, tabs, no-break spaces and newlines (nearly
    every post) is split on newlines and each line's words joined by single spaces,
    all in C; anything else goes through a regular expression line by line
    (`str.splitlines` knows more line breaks). Both give the same result; the first
    is twice as fast.
    """
    if _OTHER_WHITESPACE.search(text):
        lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
        return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
    joined = "\n".join([" ".join(line.split()) for line in text.split("\n")])
    return _BLANK_LINES.sub("\n\n", joined).strip()


# A one-line value without any character Markdown or HTML gives a meaning to, and not
# starting like a block (list item, quote, heading), renders to itself.
_PLAIN_INLINE = re.compile(r"(?![\s\d+\-=>]|\d+[.)])[^\\`*_\[\]<>&!#|~{}\n\r]*")


def inline_to_text(value: str) -> str:
    """Plain text of a one-line field (title, excerpt) that may hold Markdown or HTML.

    Most titles and excerpts are plain prose: those skip the Markdown parser.
    """
    if _PLAIN_INLINE.fullmatch(value):
        return tidy_whitespace(repair_text(value))
    return tidy_whitespace(markdown_to_text(value).replace("\n", " "))
