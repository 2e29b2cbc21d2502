"""Hostile post files never crash parsing or the build; exactly the broken ones are skipped.

Hypothesis feeds `parse_post` and `build` with wrongly typed front matter (nulls, numbers,
lists, nested and 50-deep structures, 200k-character strings, control and bidi characters),
YAML anchors, undecodable bytes, binary files and hostile Markdown/HTML/template bodies, and
checks three properties:

1. `parse_post` returns a well-typed `Post` or raises `PostParseError` (path = the file, a
   one-line reason); never any other exception.
2. The body text of a post never holds `<script`, `{%`, `{{<` or control characters.
3. `build` over good and hostile files never raises; it skips exactly the files
   `parse_post` rejects, with their reason, and every good post is found by search.

Inputs that hit a bug known when this file was written are kept out of the generators
(each place says "KNOWN BUG"). Those bugs are fixed now and each has a regression
test below, so the exclusions can go once they have been re-checked.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
import tracemalloc
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, currently_in_test_context, event, example, given, settings
from hypothesis import strategies as st

from index import BuildResult, NothingToBuild, Post, PostParseError, build, parse_post
from index.catalog import post_record
from index.fulltext import build_fulltext, fulltext_documents
from index.posts import Category
from search import Searcher, SearchRequest
from tests.conftest import ROOT, seed_front, write_post

KNOWN_FIELDS = (
    "title",
    "date",
    "slug",
    "excerpt",
    "category",
    "categories",
    "tags",
    "topics",
    "keywords",
    "authors",
    "author",
    "aliases",
    "redirect_from",
    "status",
    "draft",
    "published",
    "trending",
    "featured",
    "readingTime",
    "image",
    "lang",
)
HUGE = 200_000
SIX_MB = 6 * 1024 * 1024
CONTROLS = "".join(chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F))
BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
# KNOWN BUG (C1 controls): these five survive `repair_text` into the body text.
C1_KEPT = "\x81\x8d\x8f\x90\x9d"
INT32_MAX = 2**31 - 1

FAST = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
SLOW = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.function_scoped_fixture,
    ],
)


# --------------------------------------------------------------------------- strategies


CP1252_POST = "---\ntitle: Caf\u00e9 \u201cquoted\u201d\n---\nWindows-1252 \u2014 text".encode(
    "cp1252"
)


def _nest(value: Any, depth: int, as_dict: bool = False) -> Any:
    for _ in range(depth):
        value = {"k": value} if as_dict else [value]
    return value


def _fixed_tz() -> st.SearchStrategy[dt.timezone]:
    # Whole minutes only. KNOWN BUG (explicit YAML tags): an offset with seconds dumps as
    # `!!timestamp '...+05:00:15'`, which crashes PyYAML's constructor with AttributeError.
    minutes = st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59)
    return minutes.map(lambda m: dt.timezone(dt.timedelta(minutes=m)))


ANY_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
ODD_TEXT = st.text(
    st.sampled_from(CONTROLS + BIDI + "\x85\u2028\u2029\ufeff\u00a0\u200b \t\n\r"), max_size=20
)
WORDS = st.sampled_from(
    [
        "",
        " ",
        "false",
        "False",
        "no",
        "yes",
        "on",
        "0",
        "1",
        "draft",
        "Draft",
        "private",
        "published",
        "6 min",
        "9999999 min",
        "null",
        "~",
        "---",
        "a, b, ,c",
        ",",
        "/",
        "//",
        "..",
        "../../etc/passwd",
        "a/b c",
        "#?%",
        "C:\\x",
        "<script>alert(1)</script>",
        "{{< x >}}",
        "{% raw %}",
        "**bold** _it_",
        "# heading",
        "&amp;&lt;&#0;&#x85;",
        "\u202eevil",
        "caf\u00c3\u00a9",
        "2024-02-30",
        "2024-01-10T10:00:00Z",
        "2024-01-10 10:00",
        "1e400",
        "-1",
        "NaN",
    ]
)
DATE_TEXT = st.from_regex(
    r"(19|20)[0-9]{2}-[0-9]{1,2}-[0-9]{1,2}([ T][0-9:+\-Z.a-z ]{0,16})?", fullmatch=True
)
HUGE_TEXT = st.sampled_from([c * HUGE for c in ("a", "\u00e9", "\u5b57", "word ", "<", "\u202e")])
EDGE_NUMBERS = st.sampled_from(
    [
        0,
        -1,
        INT32_MAX,
        INT32_MAX + 1,
        2**63,
        -(2**63),
        10**20,
        -0.0,
        1e-300,
        1e308,
        float("nan"),
        float("inf"),
        float("-inf"),
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    EDGE_NUMBERS,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    ANY_TEXT,
    ODD_TEXT,
    WORDS,
    DATE_TEXT,
    HUGE_TEXT,
    st.dates(),
    st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31)),
    st.datetimes(
        min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31), timezones=_fixed_tz()
    ),
)
NESTED = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.one_of(
                st.text(max_size=8),
                st.sampled_from(["name", "type", "src", "path", "url", "display_name"]),
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=8,
)
DEEP = st.builds(_nest, SCALARS, st.integers(min_value=1, max_value=50), st.booleans())
VALUES = st.one_of(SCALARS, NESTED, DEEP)


@st.composite
def hostile_front(draw: st.DrawFn) -> dict[str, Any]:
    """Front matter with hostile values for some known fields (and maybe an unknown one)."""
    fields = draw(st.lists(st.sampled_from(KNOWN_FIELDS), unique=True, max_size=6))
    front: dict[str, Any] = {}
    if draw(st.booleans()):
        front["title"] = "A title that is fine"
    for name in fields:
        front[name] = draw(VALUES)
    if draw(st.booleans()):
        front[draw(st.text(max_size=12))] = draw(VALUES)
    return front


# Values of the shapes each field accepts, with hostile content: these files mostly parse,
# so the build has to index control characters, bidi marks, 100k-character names and more.
NAME = st.one_of(
    ANY_TEXT,
    ODD_TEXT,
    WORDS,
    st.integers(-(10**9), 10**9),
    st.sampled_from(["x" * 99_999, "\u202e" * 50_000 + "y"]),
)
NAMES = st.one_of(
    NAME,
    st.lists(st.one_of(NAME, st.none()), max_size=8),
    st.lists(st.just("t"), min_size=499, max_size=500),
)
FLAG = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.sampled_from(["yes", "No", " off ", "1", "0", ""]),
)
ACCEPTED: dict[str, st.SearchStrategy[Any]] = {
    "title": NAME,
    "slug": NAME,
    "excerpt": NAME,
    "status": NAME,
    "lang": NAME,
    "author": NAMES,
    "authors": st.one_of(
        NAMES, st.lists(st.fixed_dictionaries({"name": NAME}, optional={"url": NAME}), max_size=3)
    ),
    "category": NAMES,
    "tags": NAMES,
    "topics": NAMES,
    "keywords": NAMES,
    "aliases": NAMES,
    "redirect_from": NAMES,
    "categories": st.one_of(
        NAMES,
        st.lists(
            st.fixed_dictionaries(
                {"name": NAME},
                optional={"type": st.sampled_from(["exact", "general", "niche", "x"])},
            ),
            max_size=5,
        ),
    ),
    "date": st.one_of(st.none(), st.dates(), DATE_TEXT, st.datetimes(timezones=_fixed_tz())),
    "draft": FLAG,
    "published": FLAG,
    "trending": FLAG,
    "featured": FLAG,
    "readingTime": st.one_of(
        st.none(),
        st.integers(0, 2**70),
        st.floats(-1e300, 1e300),
        st.sampled_from([0, INT32_MAX + 1, "6 min", "999999", " 12 min"]),
    ),
    "image": st.one_of(NAME, st.fixed_dictionaries({"src": NAME})),
}


@st.composite
def accepted_front(draw: st.DrawFn) -> dict[str, Any]:
    fields = draw(st.lists(st.sampled_from(KNOWN_FIELDS), unique=True, max_size=12))
    front: dict[str, Any] = {"title": "Accepted shapes, hostile content"}
    front.update({name: draw(ACCEPTED[name]) for name in fields})
    return front


def _yaml(front: dict[str, Any], allow_unicode: bool = True) -> str:
    """Front matter block; libyaml's dumper is ~100x faster on 200k-character strings."""
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return "---\n" + yaml.dump(front, Dumper=dumper, allow_unicode=allow_unicode) + "---\n"


# YAML that `yaml.safe_dump` would never write. Each one must become a Post or a reason.
RAW_YAML = [
    "title: [unclosed",
    "title: 'a'\ntitle: 'b'",
    "\ttitle: tab",
    "- a\n- b",
    "just a string",
    "42",
    "title: *undefined",
    "title: &x [*x]",
    "title: T\ndraft: &x [*x]",
    "title: T\nimage: &x {src: *x}",
    "? [a, b]\n: c",
    "title: T\n<<: 3",
    "title: T\n<<: {a: 1}",
    "title: !!python/object/apply:os.system ['true']",
    "title: !!binary aGVsbG8=",
    "title: T\ntags: !!set {a, b}",
    "title: T\ncategories: !!omap [a: 1]",
    "title: T\ndate: 2024-02-30",
    "title: T\ndate: !!int x",
    "title: T\ndate: !!float x",
    "title: T\ndate: !!timestamp 2024-13-45",
    "title: T\ndraft: !!str [a]",
    "title: 0x" + "f" * 5000,
    "title: T\nreadingTime: 1" + "0" * 5000,
    "title: T\nreadingTime: .nan",
    "title: T\nreadingTime: -5",
    "title: T\ncategories: [{name: a}, b]",
    "title: T\ncategories: [{name: {x: 1}}]",
    "title: T\ncategories: [{}, null, {type: niche, name: n}]",
    "title: T\nauthors: [{name: [a, b]}, {display_name: 3}, [x, [y]]]",
    'title: "\\uD800"',
    'title: "nul \\0 bell \\a esc \\e"',
    'title: T\nslug: "\\u200b/\\u200b"',
    "%YAML 1.1\n---\ntitle: T",
    "title: T\n...\nmore: x",
    "{{{{",
    "title: '" + "'" * 999,
    "a: &a [lol, lol, lol]\nb: &b [*a, *a, *a]\ntitle: T\ntags: *b",
]


def _billion_laughs(field: str, levels: int = 9, width: int = 9) -> str:
    """The classic YAML bomb: `levels` anchors, each `width` aliases of the one before."""
    names = "abcdefghijklmnop"
    lines = ["---", "title: Laughs", f"a: &a [{', '.join(['lol'] * width)}]"]
    for prev, cur in zip(names[: levels - 1], names[1:levels], strict=True):
        lines.append(f"{cur}: &{cur} [{', '.join(['*' + prev] * width)}]")
    lines += [f"{field}: *{names[levels - 1]}", "---", "", "Some body text."]
    return "\n".join(lines) + "\n"


def _prose_chars() -> st.SearchStrategy[str]:
    # No Markdown/HTML/template syntax (and no full-width forms ftfy would fold into it), so
    # every hostile construct in a body comes from the fragments below, never from code.
    return st.characters(
        exclude_categories=("Cs", "Cc", "Zl", "Zp"),
        exclude_characters="<>{}&`~\\%![]*_#|=-+\t",
    ).filter(lambda c: not ("\ufe50" <= c <= "\ufe6f" or "\uff00" <= c <= "\uffef"))


PROSE = st.text(_prose_chars(), min_size=1, max_size=60).map(str.strip).filter(bool)


def _table(rows: int, cols: int, cell: str) -> str:
    line = "|" + "|".join([cell] * cols) + "|"
    return "\n".join([line, "|" + "|".join(["---"] * cols) + "|", *[line] * rows])


# Hostile markup that is well formed: tags are complete, template tags are closed.
CLEAN_MARKUP = [
    "<script>alert(1)</script>",
    "<script src='https://evil.example/x.js'></script>",
    "<SCRIPT type=text/javascript>var a = 1 < 2 && b > 3;</SCRIPT>",
    "<script>",
    "<script>\nalert(1)\n\nstill script",
    "<style>body { display: none }</style>",
    "<style>",
    "<iframe src='https://evil.example'></iframe>",
    "<iframe>",
    "<noscript><script>x</script>",
    "<svg><script>alert(1)</script></svg>",
    "<img src=x onerror=alert(1)>",
    "<b>unclosed bold",
    "<div onclick='steal()'>",
    "</div>",
    "</span></p>",
    "<div",
    "<a href='javascript:x()'>a</a>",
    "<!-- a comment <script>x</script> -->",
    "<!---->",
    "<details><summary>s</summary>d",
    "<table><tr><td>cell<td>cell",
    "<p>para<p>para",
    "<br/><hr/>",
    "<textarea><script>",
    "{% include footer.html %}",
    "{{ page.title | escape }}",
    "{%- if x -%}yes{%- endif -%}",
    "{% raw %}{{ x }}{% endraw %}",
    "{% comment %}<script>x</script>{% endcomment %}",
    "{{ '<script>' }}",
    '{{< figure src="a.png" >}}',
    "{{% notice info %}}text{{% /notice %}}",
    "{{< youtube id >}}",
    "{{</* escaped */>}}",
    "{{<\nmultiline\n>}}",
]
# Unclosed or escaped constructs: fine for property 1, but they legitimately (code spans,
# entities, alt text) or through a KNOWN BUG (unclosed comment/template) leave markup text.
RAW_MARKUP = [
    "<!-- never closes",
    "<!-- never <script>alert(1)</script>",
    "<![CDATA[ <script>x",
    "<? php",
    "<!DOCTYPE",
    "{% unclosed",
    "{{ unclosed",
    "{{< unclosed",
    "`<script>`",
    "```html\n<script>x</script>\n```",
    "    <script>indented</script>",
    "&lt;script&gt;",
    "&#0;&#1;&#x85;&#xD800;&#1114112;",
    "![<script>x](a.png)",
    "[<script>](javascript:x)",
    "<http://a.example/<script>",
    "\\<script>",
    "<scr\x00ipt>",
    C1_KEPT,
    "\x85\u2028\u2029",
    "*" * 5000,
    "[" * 5000,
    "<a" * 2000,
    "_" * 3000 + "x" + "_" * 3000,
]


@st.composite
def clean_body(draw: st.DrawFn) -> str:
    """A body of prose mixed with well-formed hostile markup and deep structures."""
    markup = st.sampled_from(CLEAN_MARKUP)
    pieces = st.one_of(
        PROSE,
        PROSE,
        markup,
        markup,
        markup,
        st.builds(
            lambda c, p: p + c + p, st.sampled_from(CONTROLS.replace("\x00", "") + BIDI), PROSE
        ),
        st.builds(
            lambda mark, n, p: mark * n + p,
            st.sampled_from(["> ", "* ", "- ", "1. ", "+ ", ">", "<div>", "<blockquote>"]),
            st.one_of(st.integers(1, 19), st.sampled_from([20, 50, 10_000])),
            PROSE,
        ),
        st.builds(
            _table,
            st.integers(0, 300),
            st.integers(1, 30),
            PROSE.map(lambda p: p.replace("|", " ")),
        ),
        st.builds(lambda n, p: "#" * n + " " + p, st.integers(1, 7), PROSE),
    )
    parts = draw(st.lists(pieces, min_size=2, max_size=12))
    seps = draw(
        st.lists(st.sampled_from(["\n\n", "\n", " "]), min_size=len(parts), max_size=len(parts))
    )
    return "".join(s + p for s, p in zip(seps, parts, strict=True))


@st.composite
def any_body(draw: st.DrawFn) -> str:
    """Anything: clean hostile bodies, raw/unclosed markup and arbitrary text."""
    parts = draw(
        st.lists(
            st.one_of(
                clean_body(),
                st.sampled_from(RAW_MARKUP),
                ANY_TEXT,
                ODD_TEXT,
                HUGE_TEXT,
                st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300),
            ),
            max_size=4,
        )
    )
    return "\n".join(parts)


def _encode(draw: st.DrawFn, text: str) -> bytes:
    newline = draw(st.sampled_from(["\n", "\r\n", "\r", "mixed"]))
    if newline == "mixed":
        text = text.replace("\n", "\r\n", 1)
    elif newline != "\n":
        text = text.replace("\n", newline)
    codec = draw(st.sampled_from(["utf-8"] * 6 + ["utf-8-sig", "cp1252", "utf-16"]))
    return text.encode(codec, errors="replace")


@st.composite
def hostile_file(draw: st.DrawFn) -> bytes:
    """The bytes of one hostile post file."""
    kind = draw(
        st.sampled_from(
            [
                "front",
                "front",
                "accepted",
                "accepted",
                "accepted",
                "raw_yaml",
                "raw_yaml",
                "no_front",
                "binary",
                "bad_utf8",
                "special",
                "huge",
                "bomb",
            ]
        )
    )
    if kind in ("front", "accepted"):
        front = draw(hostile_front() if kind == "front" else accepted_front())
        head = _yaml(front, allow_unicode=draw(st.booleans()))
        return _encode(draw, head + draw(any_body()))
    if kind == "raw_yaml":
        return _encode(
            draw, "---\n" + draw(st.sampled_from(RAW_YAML)) + "\n---\n" + draw(any_body())
        )
    if kind == "no_front":
        return _encode(draw, draw(any_body()))
    if kind == "binary":
        return draw(st.binary(max_size=4000)) + b"\x00" * draw(st.integers(0, 1))
    if kind == "bad_utf8":
        good = ("---\ntitle: Broken bytes\n---\n" + draw(PROSE)).encode()
        cut = draw(st.integers(0, len(good)))
        junk = draw(
            st.sampled_from(
                [
                    b"\xff",
                    b"\xc0\xaf",
                    b"\xed\xa0\x80",
                    b"\xe2\x82",
                    b"\x80\x80",
                    b"\xf5\x80\x80\x80",
                    b"caf\xe9",
                ]
            )
        )
        return good[:cut] + junk + good[cut:]
    if kind == "special":
        return draw(
            st.sampled_from(
                [
                    b"",
                    b"   \n\t\n",
                    b"\xef\xbb\xbf",
                    b"---\n---\n",
                    b"---\n",
                    b"---",
                    b"---\r\n---\r\n",
                    b"\xef\xbb\xbf---\r\ntitle: BOM and CRLF\r\n---\r\nBody.\r\n",
                    CP1252_POST,
                    "# Only a heading\n".encode("utf-16"),
                ]
            )
        )
    if kind == "huge":
        return b"---\ntitle: Too big\n---\n" + b"word " * (SIX_MB // 5)
    # A billion-laughs bomb referenced from a field that does not repr it.
    # KNOWN BUG (YAML bomb): draft/published/trending/featured/readingTime would expand it.
    field = draw(
        st.sampled_from(
            [
                "tags",
                "topics",
                "keywords",
                "categories",
                "authors",
                "aliases",
                "image",
                "title",
                "date",
                "x_unknown",
            ]
        )
    )
    return _billion_laughs(field).encode()


# --------------------------------------------------------------------------- assertions


def _check_post(post: Post) -> None:
    assert isinstance(post, Post)
    assert isinstance(post.title, str) and post.title
    assert isinstance(post.slug, str) and post.slug
    assert "/" not in post.slug and not any(ch.isspace() for ch in post.slug), post.slug
    assert post.date is None or (
        isinstance(post.date, dt.datetime) and post.date.utcoffset() is not None
    )
    for name in ("category", "tags", "keywords", "authors", "aliases"):
        value = getattr(post, name)
        assert isinstance(value, tuple) and all(isinstance(v, str) for v in value), name
    assert isinstance(post.categories, tuple)
    assert all(isinstance(c, Category) and isinstance(c.name, str) for c in post.categories)
    assert isinstance(post.body_text, str) and isinstance(post.excerpt, str)
    assert isinstance(post.draft, bool) and isinstance(post.reading_time, int)


def _check_error(error: PostParseError, shown: str) -> None:
    assert error.path == shown
    assert isinstance(error.reason, str) and error.reason.strip(), error.reason
    assert len(error.reason.splitlines()) == 1, error.reason


def _parse(path: Path, posts_dir: Path | None = None) -> Post | PostParseError:
    """parse_post, with PostParseError returned; any other exception propagates."""
    try:
        post = parse_post(path, posts_dir)
    except PostParseError as error:
        _check_error(error, path.relative_to(posts_dir).as_posix() if posts_dir else str(path))
        _event("skipped: " + error.reason[:24])
        return error
    _check_post(post)
    _event("post" + (" (draft)" if post.draft else ""))
    return post


def _event(label: str) -> None:
    """Count outcomes in `--hypothesis-show-statistics` (only inside a Hypothesis test)."""
    if currently_in_test_context():
        event(label)


def _body_leaks(text: str) -> list[str]:
    found = [m for m in ("<script", "{%", "{{<") if m in text.lower()]
    return found + [
        f"U+{ord(c):04X}"
        for c in sorted(set(text))
        if unicodedata.category(c) == "Cc" and c not in "\n\t"
    ]


def _write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


# --------------------------------------------------------------------------- property 1


@FAST
@given(data=hostile_file())
def test_any_file_becomes_a_post_or_a_one_line_reason(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        _parse(_write(Path(tmp), "2024-01-10-hostile-post.md", data))


@FAST
@given(front=st.one_of(hostile_front(), accepted_front()), body=clean_body())
def test_any_front_matter_becomes_a_post_or_a_reason(front: dict[str, Any], body: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(Path(tmp), "sub dir/typed.markdown", (_yaml(front) + body).encode())
        result = _parse(path, Path(tmp))
    if isinstance(result, Post):
        assert result.path == "sub dir/typed.markdown"


@pytest.mark.parametrize("field", KNOWN_FIELDS)
@settings(FAST, max_examples=60)
@given(data=st.data())
def test_each_field_with_any_value_becomes_a_post_or_a_reason(
    field: str, data: st.DataObject
) -> None:
    """One hostile field at a time, so no other field's error hides its coercion."""
    value = data.draw(st.integers(0, 3).flatmap(lambda k: VALUES if k else EDGE_NUMBERS))
    front = {"title": "Only one field is hostile", field: value}
    with tempfile.TemporaryDirectory() as tmp:
        result = _parse(_write(Path(tmp), "one.md", (_yaml(front) + "Body.").encode()))
    if isinstance(result, PostParseError) and field not in ("date", "title"):
        # The reason names the field ("categor" covers "a category name must be text").
        reason = result.reason.lower()
        # The reason names the field, or the file as a whole (bad YAML, or a value so big
        # the file passes the size limit).
        assert field.lower()[:7] in reason or "front matter" in reason or "larger than" in reason, (
            result.reason
        )


@settings(FAST, max_examples=25)
@given(fronts=st.lists(accepted_front(), min_size=1, max_size=4), body=clean_body())
def test_every_post_that_parses_can_be_indexed(fronts: list[dict[str, Any]], body: str) -> None:
    """What `build` does with each post: a Whoosh document and a JSON catalog record."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        parsed = [
            _parse(_write(folder, f"p{i}.md", (_yaml(f) + body).encode()), folder)
            for i, f in enumerate(fronts)
        ]
        posts = [p for p in parsed if isinstance(p, Post)]
        build_fulltext(fulltext_documents(posts), folder / "fulltext")
        json.dumps([post_record(p) for p in posts], ensure_ascii=False).encode()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b" \n\t\r\n", "empty file"),
        (b"\xef\xbb\xbf", "empty file"),
        (b"---\n---\n", "missing title"),
        (b"\x00\x01\x02binary\xff", "not UTF-8"),
        (b"PK\x03\x04\x00\x00", "binary file"),
        ("# Heading\n".encode("utf-16"), "not UTF-8"),
        ("---\ntitle: Caf\u00e9\n---\nbody".encode("cp1252"), "not UTF-8 (byte 14)"),
        (b"---\ntitle: x\n---\n" + b"a" * SIX_MB, "larger than 5 MB"),
    ],
    ids=[
        "empty",
        "blank",
        "bom-only",
        "only-dashes",
        "nul-and-ff",
        "zip-magic",
        "utf16",
        "cp1252",
        "6MB",
    ],
)
def test_unreadable_files_are_rejected_with_a_reason(
    tmp_path: Path, data: bytes, reason: str
) -> None:
    result = _parse(_write(tmp_path, "file.md", data))
    assert isinstance(result, PostParseError)
    assert reason in result.reason


def test_bom_and_crlf_are_read_like_plain_utf8(tmp_path: Path) -> None:
    text = "---\ntitle: Line endings\ntags: [a, b]\n---\n\nFirst line\nsecond line.\n"
    plain = _parse(_write(tmp_path, "plain.md", text.encode()))
    odd = _parse(_write(tmp_path, "odd.md", b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode()))
    old_mac = _parse(_write(tmp_path, "mac.md", text.replace("\n", "\r").encode()))
    assert isinstance(plain, Post) and isinstance(odd, Post) and isinstance(old_mac, Post)
    for post in (odd, old_mac):
        assert (post.title, post.tags, post.body_text) == (plain.title, plain.tags, plain.body_text)
        assert "\r" not in post.body_html


# --------------------------------------------------------------------------- property 2


@FAST
@given(
    body=clean_body(),
    front=st.sampled_from(
        [{"title": "Hostile body"}, {"title": "<script>t</script> Title", "tags": ["<b>x</b>"]}]
    ),
)
# Found by hypothesis: removing the template tags once left a four-space indent, and
# the script became an indented code block, kept as text.
@example(body="0\n\n{% raw %}{{ x }}{% endraw %} <script>alert(1)</script>", front={"title": "T"})
def test_hostile_markup_never_reaches_the_body_text(body: str, front: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        result = _parse(write_post(Path(tmp), "body.md", front, body))
    assert isinstance(result, Post), result
    assert _body_leaks(result.body_text) == []


# Where a construct can sit in Markdown; `{m}` is replaced by the construct.
CONTEXTS = [
    "{m}",
    "Intro text {m} outro text",
    "Intro paragraph.\n{m}\nmore text",
    "- item {m}\n- next",
    "> quote {m}\n> more",
    "|a|b|\n|-|-|\n|{m}|x|",
    "# Heading {m}",
    "**bold {m}** after",
    "[link {m}](https://x.example) after",
    "{m}\n\n{m}",
    "1. one\n\n   {m}\n2. two",
    "Text *{m}* text",
    "  {m}",
    "Setext {m}\n===",
    "<div>\n{m}\n</div>\n\nafter",
]


@pytest.mark.parametrize(
    "markup", CLEAN_MARKUP, ids=[f"markup-{i:02d}" for i in range(len(CLEAN_MARKUP))]
)
def test_each_hostile_construct_in_each_markdown_context(tmp_path: Path, markup: str) -> None:
    """Deterministic companion of the property above: every construct, every context."""
    for number, context in enumerate(CONTEXTS):
        body = context.replace("{m}", markup)
        post = _parse(write_post(tmp_path, f"ctx-{number}.md", {"title": "Context"}, body))
        assert isinstance(post, Post), (context, post)
        assert _body_leaks(post.body_text) == [], (context, post.body_text[:200])


@pytest.mark.parametrize(
    "body",
    [
        "> " * 10_000 + "deep quote",
        "* " * 10_000 + "deep list",
        "1. " * 10_000 + "deep",
        "- " * 10_000 + "deep",
        "\n".join("  " * i + "* item" for i in range(300)),
        ">" * 10_000 + " no spaces",
        "<div>" * 10_000 + "deep html",
        "<blockquote>" * 5_000,
        "[" * 100_000,
        "*a " * 50_000,
        "<a" * 50_000,
        "<!--" * 20_000,
        _table(2_000, 50, "cell"),
        "|" * 100_000 + "\n|" + "-|" * 1_000,
    ],
    ids=[
        "quote",
        "star-list",
        "ordered",
        "dash-list",
        "indented-list",
        "quote-tight",
        "div",
        "html-quote",
        "brackets",
        "emphasis",
        "lt",
        "comments",
        "table-2000x50",
        "pipes",
    ],
)
def test_deep_markdown_does_not_recurse_to_death(tmp_path: Path, body: str) -> None:
    started = time.monotonic()
    result = _parse(write_post(tmp_path, "deep.md", {"title": "Deep"}, body))
    assert isinstance(result, Post), result
    assert _body_leaks(result.body_text) == []
    assert time.monotonic() - started < 20


# --------------------------------------------------------------------------- YAML bombs


@pytest.mark.parametrize(
    "field",
    [
        "tags",
        "x_unknown",
        "topics",
        "keywords",
        "categories",
        "authors",
        "author",
        "aliases",
        "redirect_from",
        "image",
        "title",
        "slug",
        "date",
        "status",
        "lang",
        "excerpt",
        "category",
    ],
)
def test_billion_laughs_is_not_expanded(tmp_path: Path, field: str) -> None:
    """9 levels x 9 aliases (387 million "lol"s if expanded) must stay a small graph."""
    path = _write(tmp_path, "laughs.md", _billion_laughs(field).encode())
    tracemalloc.start()
    started = time.monotonic()
    try:
        result = _parse(path)
        seconds = time.monotonic() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert seconds < 2, f"{seconds:.1f} s"
    assert peak < 20 * 2**20, f"{peak / 2**20:.0f} MiB"
    if field == "x_unknown":
        assert isinstance(result, Post) and result.title == "Laughs"
    else:
        assert isinstance(result, PostParseError) and field in result.reason


_BOMB_CHILD = """
import json, resource, sys, time
from pathlib import Path
from index.errors import PostParseError
from index.posts import parse_post
status = open("/proc/self/status").read().split("VmSize:")[1].split()[0]
cap = int(status) * 1024 + 96 * 2**20  # what the imports took, plus 96 MiB
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
started = time.monotonic()
try:
    parse_post(Path(sys.argv[1]))
    outcome = "post"
except PostParseError as error:
    outcome = "error: " + error.reason[:60]
except BaseException as error:  # MemoryError is the point of this probe
    outcome = "crash: " + type(error).__name__
print(json.dumps({"outcome": outcome, "seconds": time.monotonic() - started}))
"""


@pytest.mark.parametrize("field", ["draft", "readingTime"])
def test_billion_laughs_in_a_boolean_or_number_field(tmp_path: Path, field: str) -> None:
    # Run in a child capped at 96 MiB above its imports: in-process it would take ~1 min
    # and ~3 GB of memory (or be killed by CI) before failing.
    path = _write(tmp_path, "laughs.md", _billion_laughs(field).encode())
    child = subprocess.run(
        [sys.executable, "-c", _BOMB_CHILD, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={
            "PATH": "",
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "PYTHONPATH": str(ROOT),
        },
    )
    assert child.returncode == 0, child.stderr[-2000:]
    report = json.loads(child.stdout)
    assert report["outcome"].startswith("error:"), report
    assert report["seconds"] < 2, report


# --------------------------------------------------------------------------- property 3

GOOD_WORDS = ("aardvarkian", "bumblezoid", "crumplehorn", "dervishoo", "eftwhistle")


def _good_post(folder: Path, index: int) -> tuple[str, str]:
    word = GOOD_WORDS[index]
    title = f"Good post {word}"
    front = seed_front(f"good-post-{index}", title, "Food", "Baking", "Bread", f"Niche {index}")
    body = (
        f"This is a plain post about baking bread at home. The word {word} appears in it, "
        "and the rest of the text is ordinary English prose with enough words to form a "
        "real paragraph that readers would find on any food blog."
    )
    write_post(folder, f"good/{index}-good.md", front, body)
    return word, title


def _hostile_name(index: int, suffix: str, nested: bool) -> str:
    return f"{'deep/er/' if nested else ''}hostile-{index}{suffix}"


@SLOW
@given(
    good=st.integers(min_value=0, max_value=len(GOOD_WORDS)),
    files=st.lists(
        st.tuples(hostile_file(), st.sampled_from([".md", ".markdown", ".MD"]), st.booleans()),
        max_size=8,
    ),
)
def test_build_skips_exactly_the_broken_files_and_keeps_every_good_post(
    good: int, files: list[tuple[bytes, str, bool]]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        posts_dir, index_dir = Path(tmp) / "posts", Path(tmp) / "index"
        posts_dir.mkdir()
        goods = [_good_post(posts_dir, i) for i in range(good)]
        hostile = {}
        for i, (data, suffix, nested) in enumerate(files):
            name = _hostile_name(i, suffix, nested)
            hostile[name] = _parse(_write(posts_dir, name, data), posts_dir)
        _write(posts_dir, "notes.txt", b"not a post")
        _write(posts_dir, ".hidden/secret.md", b"---\ntitle: Hidden\n---\nhidden")

        visible = [p for p in hostile.values() if isinstance(p, Post) and not p.draft]
        if not goods and not visible:
            with pytest.raises(NothingToBuild):
                build(posts_dir, index_dir)
            return
        result = build(posts_dir, index_dir)
        _check_build(result, len(goods), hostile)
        with Searcher(index_dir) as searcher:
            for word, title in goods:
                hits = searcher.search(SearchRequest(q=word)).hits
                assert title in [hit.title for hit in hits], (word, hits)


def _check_build(
    result: BuildResult, goods: int, hostile: dict[str, Post | PostParseError]
) -> None:
    assert result.files == goods + len(hostile)
    assert result.indexed + result.drafts + len(result.skipped) == result.files
    expected = {name: r.reason for name, r in hostile.items() if isinstance(r, PostParseError)}
    assert {e.path: e.reason for e in result.skipped} == expected
    assert len(result.skipped) == len(expected)
    parsed = [p for p in hostile.values() if isinstance(p, Post)]
    assert result.drafts == sum(p.draft for p in parsed)
    assert result.indexed == goods + sum(not p.draft for p in parsed)


# ------------------------------------------------- single inputs: fixed and known bugs


def _front(**fields: Any) -> str:
    return "---\n" + "\n".join(f"{k}: {v}" for k, v in fields.items()) + "\n---\nBody text.\n"


def _assert_post_or_reason(tmp_path: Path, text: str) -> Post | PostParseError:
    return _parse(_write(tmp_path, "bug.md", text.encode()))


# Fixed while this file was written (index/values.py as_int / as_datetime): these crashed
# with OverflowError, and a 32-bit overflow in Whoosh aborted the build. Now regressions.
@pytest.mark.parametrize("value", [".inf", "-.inf", ".nan"])
def test_non_finite_reading_time_is_a_reason(tmp_path: Path, value: str) -> None:
    result = _assert_post_or_reason(tmp_path, _front(title="T", readingTime=value))
    assert isinstance(result, PostParseError) and "readingTime" in result.reason


@pytest.mark.parametrize(
    "value",
    ["0001-01-01T00:00:00+05:00", "'0001-01-01 00:00 +0500'", "'9999-12-31T23:00:00-05:00'"],
)
def test_out_of_range_aware_date_is_a_reason(tmp_path: Path, value: str) -> None:
    result = _assert_post_or_reason(tmp_path, _front(title="T", date=value))
    assert isinstance(result, PostParseError) and "date" in result.reason


@pytest.mark.parametrize(
    "value", ["!!timestamp x", "!!bool maybe", "!!int ''", "!!int '-'", "!!float ''"]
)
def test_explicit_yaml_tag_with_a_bad_value_is_a_reason_not_a_crash(
    tmp_path: Path, value: str
) -> None:
    _assert_post_or_reason(tmp_path, _front(title="T", date=value))


@pytest.mark.parametrize(
    "hostile",
    [
        pytest.param(_front(title="T", date="!!bool maybe"), id="yaml-tag"),
        pytest.param(_front(title="T", readingTime=".inf"), id="reading-inf"),
        pytest.param(_front(title="T", date="0001-01-01T00:00:00+05:00"), id="date-overflow"),
        pytest.param(_front(title="T", readingTime="3000000000"), id="reading-int32"),
        pytest.param(_front(title="T", readingTime="99999999999999999999"), id="reading-huge"),
        pytest.param(_front(title="T", readingTime="1.0e+12"), id="reading-float"),
    ],
)
def test_one_hostile_file_does_not_abort_the_build(tmp_path: Path, hostile: str) -> None:
    _build_with_one_hostile(tmp_path, hostile)


def _build_with_one_hostile(tmp_path: Path, hostile: str) -> None:
    word, title = _good_post(tmp_path / "posts", 0)
    _write(tmp_path / "posts", "hostile.md", hostile.encode())
    result = build(tmp_path / "posts", tmp_path / "index")
    assert result.files == 2 and result.indexed + result.drafts + len(result.skipped) == 2
    with Searcher(tmp_path / "index") as searcher:
        assert title in [hit.title for hit in searcher.search(SearchRequest(q=word)).hits]


@pytest.mark.parametrize(
    "body",
    [
        "<!-- hidden note <script>alert(1)</script>",
        "Intro.\n\n<!-- never closed <script src=x>",
        "<div>\nvisible <script",
        "<![CDATA[ <script>x",
    ],
    ids=["comment", "comment-after-para", "incomplete-tag", "cdata"],
)
def test_unterminated_html_at_the_end_of_a_block_stays_hidden(tmp_path: Path, body: str) -> None:
    post = _parse(write_post(tmp_path, "html.md", {"title": "T"}, body))
    assert isinstance(post, Post)
    assert _body_leaks(post.body_text) == []


DEEP_THEN_TEXT = "Opening paragraph.\n\n{deep}deep\n\nClosing paragraph about zanzibar."


def test_text_after_a_deep_blockquote_is_kept(tmp_path: Path) -> None:
    body = DEEP_THEN_TEXT.format(deep="> " * 25)
    post = _parse(write_post(tmp_path, "deep.md", {"title": "T"}, body))
    assert isinstance(post, Post) and "zanzibar" in post.body_text


@pytest.mark.parametrize("marker", ["- ", "* ", "1. "], ids=["dash", "star", "ordered"])
def test_text_after_a_deep_list_is_kept(tmp_path: Path, marker: str) -> None:
    body = DEEP_THEN_TEXT.format(deep=marker * 25)
    post = _parse(write_post(tmp_path, "deep.md", {"title": "T"}, body))
    assert isinstance(post, Post)
    assert "zanzibar" in post.body_text, post.body_text


@pytest.mark.parametrize(
    "body",
    ["Hello {% include foo\n\nworld", "Hello {{< figure src=x\n\nworld"],
    ids=["liquid", "hugo"],
)
def test_unclosed_template_tags_do_not_reach_the_body_text(tmp_path: Path, body: str) -> None:
    post = _parse(write_post(tmp_path, "tpl.md", {"title": "T"}, body))
    assert isinstance(post, Post)
    assert _body_leaks(post.body_text) == []


@pytest.mark.parametrize("char", list(C1_KEPT), ids=[f"U+{ord(c):04X}" for c in C1_KEPT])
def test_c1_control_characters_do_not_reach_the_body_text(tmp_path: Path, char: str) -> None:
    post = _parse(write_post(tmp_path, "c1.md", {"title": "T"}, f"before {char} after"))
    assert isinstance(post, Post)
    assert _body_leaks(post.body_text) == []


def test_a_title_of_invisible_characters_is_missing(tmp_path: Path) -> None:
    result = _assert_post_or_reason(tmp_path, _front(title='"\\u200b \\u200b"'))
    assert isinstance(result, PostParseError) or result.title.strip(), repr(result)
