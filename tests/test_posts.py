"""Tests for index/posts.py: front matter in its many real-world spellings becomes a typed `Post`.

Every test writes real files under pytest's tmp_path (or reads the seed in ../shared and the
shipped sample corpus) and parses them with the real parser: no mocks. Broken files must raise
`PostParseError` naming the file, and the sample corpus must parse cleanly end to end.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.errors import PostParseError
from index.posts import (
    LEVELS,
    MAX_FILE_BYTES,
    Category,
    LoadReport,
    Post,
    find_post_files,
    load_posts,
    parse_post,
)
from index.text import markdown_to_text, repair_text, tidy_whitespace
from tests.conftest import SAMPLE_POSTS, seed_front, shared_dir, write_post

UTC = dt.UTC
BODY = "A short body with enough words to be a paragraph of its own."

FRENCH_PROSE = (
    "Le matin, nous avons quitté le refuge avant le lever du soleil pour traverser le glacier. "
    "La neige était encore dure et le ciel se colorait lentement de rose au-dessus des sommets. "
    "Après trois heures de marche, nous avons atteint le col, où soufflait un vent froid. "
    "Nous avons partagé du pain, du fromage et du chocolat en regardant la vallée se réveiller "
    "sous nos pieds. La descente vers le lac fut longue mais magnifique, entre les fleurs "
    "sauvages et les marmottes curieuses."
)
ENGLISH_PROSE = (
    "This is a post about the way we plan a long walk in the mountains. It is written in plain "
    "English and it has enough of the common words that a reader will see it as English text, "
    "which is what we want when we check how the language of a post is guessed."
)


def parse(folder: Path, name: str, front: dict[str, Any] | None, body: str = BODY) -> Post:
    """Write one post with `write_post` and parse it relative to `folder`."""
    return parse_post(write_post(folder, name, front, body), folder)


def parse_raw(folder: Path, name: str, content: str | bytes) -> Post:
    """Write exact text or bytes (for YAML the dumper would quote) and parse it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return parse_post(path, folder)


@pytest.fixture()
def posts_dir(tmp_path: Path) -> Path:
    return tmp_path / "posts"


# --- 1. The seed post -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed_post() -> Post:
    return parse_post(shared_dir("seed", "deeplearning-unlocking-the-future-today.md"))


def test_seed_identity_fields(seed_post: Post) -> None:
    assert seed_post.slug == "deeplearning-unlocking-the-future-today"
    assert seed_post.title == "DeepLearning: Unlocking the Future, Today"
    assert seed_post.path.endswith("seed/deeplearning-unlocking-the-future-today.md")
    assert seed_post.generated_by == "Gemini"
    assert seed_post.lang == "en"
    assert len(seed_post.content_hash) == 64


def test_seed_date_is_exact_aware_utc(seed_post: Post) -> None:
    assert isinstance(seed_post.date, dt.datetime)
    assert seed_post.date.utcoffset() == dt.timedelta(0)
    assert seed_post.date == dt.datetime(2025, 3, 18, 20, 11, 44, 863000, tzinfo=UTC)


def test_seed_excerpt_and_meta_description(seed_post: Post) -> None:
    assert seed_post.excerpt.startswith("The world is drowning in data. But what if that data")
    assert seed_post.excerpt.endswith("a fundamental shift in how we interact with the world.")
    assert "  " not in seed_post.excerpt
    assert seed_post.meta_description is not None
    assert seed_post.meta_description.startswith("The world is drowning in data.")
    assert seed_post.meta_description.endswith("no longer confined to ...")


def test_seed_categories_keep_their_levels_in_file_order(seed_post: Post) -> None:
    assert seed_post.category == ("Deeplearning",)
    assert seed_post.categories == (
        Category("Deeplearning", "exact"),
        Category("Artificial Intelligence", "general"),
        Category("Machine Learning", "medium"),
        Category("Neural Networks", "specific"),
        Category("Convolutional Neural Networks", "niche"),
    )
    assert tuple(c.level for c in seed_post.categories) == LEVELS


def test_seed_flags_and_counts_are_typed(seed_post: Post) -> None:
    assert seed_post.status == "new"
    assert seed_post.trending is True
    assert seed_post.featured is False
    assert seed_post.draft is False
    assert seed_post.keywords == ()
    assert seed_post.reading_time == 6
    assert type(seed_post.reading_time) is int


def test_seed_image_and_social_fields(seed_post: Post) -> None:
    assert seed_post.image == (
        "https://images.unsplash.com/photo-1519389950473-47ba0277781c"
        "?q=85&w=1200&fit=max&fm=webp&auto=compress"
    )
    assert seed_post.image_alt == "DeepLearning: Unlocking the Future, Today"
    assert seed_post.image_credit == "Photo from Unsplash"
    assert seed_post.social_share is not None
    assert seed_post.social_share.startswith("\"Deep learning isn't just about smarter machines")
    assert seed_post.social_share.endswith('greatest challenges."')


def test_seed_body_text_is_plain_readable_text(seed_post: Post) -> None:
    text = seed_post.body_text
    assert "The Deep Dive: Understanding Deep Learning's Architecture" in text
    assert "Diagnosing diseases from medical images" in text  # bullet list item
    assert "Identify a clear problem" in text  # numbered list item
    assert "Garbage in, garbage out remains a fundamental truth." in text  # blockquote
    assert "A flowchart illustrating the steps" in text  # image alt text
    for markup in ("**", "![", "<div", "](", "## "):
        assert markup not in text


# --- 2. Real-world front matter shapes --------------------------------------------------------


def test_jekyll_file_name_gives_slug_and_date(posts_dir: Path) -> None:
    post = parse(posts_dir, "2023-05-14-some-post.md", {"title": "Some post"})
    assert post.slug == "some-post"
    assert post.date == dt.datetime(2023, 5, 14, tzinfo=UTC)
    assert post.aliases == ()


def test_front_matter_date_wins_over_jekyll_file_name(posts_dir: Path) -> None:
    post = parse(posts_dir, "2023-05-14-some-post.md", {"title": "T", "date": "2024-02-03"})
    assert post.date == dt.datetime(2024, 2, 3, tzinfo=UTC)


def test_seed_front_helper_round_trips(posts_dir: Path) -> None:
    front = seed_front("tanuki", "Tanuki Facts", "Animals", "Mammals", "Canids", "Tanuki")
    post = parse(posts_dir, "tanuki.md", front)
    assert post.slug == "tanuki"
    assert post.category == ("Tanuki",)
    # "Tanuki" is both the exact and the niche category: the hierarchy level is kept.
    assert post.categories == (
        Category("Tanuki", "niche"),
        Category("Animals", "general"),
        Category("Mammals", "medium"),
        Category("Canids", "specific"),
    )
    assert post.status == "published"
    assert post.reading_time == 3


@pytest.mark.parametrize(
    "categories", [["Cooking", "Baking"], "Cooking, Baking"], ids=["yaml-list", "comma-string"]
)
def test_plain_category_names_have_unknown_level(posts_dir: Path, categories: Any) -> None:
    post = parse(posts_dir, "bread.md", {"title": "Bread", "categories": categories})
    assert post.categories == (Category("Cooking", "unknown"), Category("Baking", "unknown"))
    assert post.category == ()


def test_comma_string_category_gives_exact_categories(posts_dir: Path) -> None:
    post = parse(posts_dir, "api.md", {"title": "APIs", "category": "Python, APIs"})
    assert post.category == ("Python", "APIs")
    assert post.categories == (Category("Python", "exact"), Category("APIs", "exact"))


def test_exact_category_upgrades_a_plain_category_of_the_same_name(posts_dir: Path) -> None:
    front = {"title": "T", "category": "baking", "categories": ["Cooking", "Baking"]}
    post = parse(posts_dir, "bread.md", front)
    assert post.categories == (Category("Cooking", "unknown"), Category("baking", "exact"))


def test_tags_and_topics_become_tags_and_keywords_stay_apart(posts_dir: Path) -> None:
    front = {
        "title": "T",
        "tags": ["flask", "python"],
        "topics": "testing, pytest",
        "keywords": "pytest, fixtures",
    }
    post = parse(posts_dir, "t.md", front)
    assert post.tags == ("flask", "python", "testing", "pytest")
    assert post.keywords == ("pytest", "fixtures")
    assert post.labels == ("flask", "python", "testing", "pytest", "fixtures")


@pytest.mark.parametrize("field", ["excerpt", "description", "summary"])
def test_excerpt_comes_from_any_summary_field(posts_dir: Path, field: str) -> None:
    post = parse(posts_dir, "t.md", {"title": "T", field: "A *short* summary of the post."})
    assert post.excerpt == "A short summary of the post."


def test_description_is_also_the_meta_description(posts_dir: Path) -> None:
    post = parse(posts_dir, "t.md", {"title": "T", "description": "Said once."})
    assert post.meta_description == "Said once."


@pytest.mark.parametrize(
    "body",
    [
        "The first real paragraph has words.\n\nThe second paragraph has words too.",
        "Short.\n\nThe first real paragraph has words.\n\nThe second paragraph.",
        "## Introduction\n\nThe first real paragraph has words.\n\nThe second paragraph.",
        "## What Is This Post About\n\nThe first real paragraph has words.\n\nThe second.",
    ],
    ids=["paragraph-first", "short-line-first", "short-heading-first", "long-heading-first"],
)
def test_excerpt_falls_back_to_the_first_paragraph(posts_dir: Path, body: str) -> None:
    post = parse(posts_dir, "t.md", {"title": "T"}, body)
    assert post.excerpt == "The first real paragraph has words."


def test_long_first_paragraph_excerpt_is_cut_at_a_word_boundary(posts_dir: Path) -> None:
    post = parse(posts_dir, "t.md", {"title": "T"}, " ".join(["lorem"] * 200))
    assert post.excerpt.endswith("lorem…")
    assert len(post.excerpt) <= 281
    assert "  " not in post.excerpt


@pytest.mark.parametrize(
    ("front", "authors"),
    [
        ({"author": "Jane Doe"}, ("Jane Doe",)),
        ({"authors": ["alice", "bob"]}, ("alice", "bob")),
        ({"author": {"name": "Jane Doe", "mail": "jane@example.com"}}, ("Jane Doe",)),
        ({"authors": ["alice"], "author": "alice"}, ("alice",)),
        ({}, ()),
    ],
    ids=["author-string", "authors-list", "jekyll-author-dict", "deduplicated", "none"],
)
def test_authors_in_every_spelling(
    posts_dir: Path, front: dict[str, Any], authors: tuple[str, ...]
) -> None:
    assert parse(posts_dir, "t.md", {"title": "T", **front}).authors == authors


@pytest.mark.parametrize(
    ("front", "aliases"),
    [
        ({"aliases": ["/old/a/", "/old/b/"]}, ("/old/a/", "/old/b/")),
        ({"alias": "/old/a/"}, ("/old/a/",)),
        ({"redirect_from": ["/2020/05/x/", "/blog/x.html"]}, ("/2020/05/x/", "/blog/x.html")),
    ],
    ids=["hugo-aliases", "alias-string", "jekyll-redirect-from"],
)
def test_aliases_in_every_spelling(
    posts_dir: Path, front: dict[str, Any], aliases: tuple[str, ...]
) -> None:
    post = parse(posts_dir, "x.md", {"title": "T", **front})
    assert post.aliases == aliases
    assert post.slug == "x"


@pytest.mark.parametrize(
    ("name", "file_slug"),
    [("old-name.md", "old-name"), ("2021-01-02-old-name.md", "old-name")],
    ids=["plain-file", "jekyll-file"],
)
def test_front_matter_slug_keeps_the_file_slug_as_an_alias(
    posts_dir: Path, name: str, file_slug: str
) -> None:
    post = parse(posts_dir, name, {"title": "T", "slug": "new-name"})
    assert post.slug == "new-name"
    assert post.aliases == (file_slug,)


@pytest.mark.parametrize(
    ("name", "front"),
    [
        ("old-name.md", {"slug": "new-name", "aliases": ["old-name"]}),
        ("Old Name.md", {"slug": "new-name", "aliases": ["Old-Name"]}),
    ],
    ids=["plain-file", "file-name-with-space"],
)
def test_aliases_never_repeat(posts_dir: Path, name: str, front: dict[str, Any]) -> None:
    post = parse(posts_dir, name, {"title": "T", **front})
    assert len(post.aliases) == len(set(post.aliases)) == 1


def test_slug_is_made_safe_for_one_path_segment(posts_dir: Path) -> None:
    post = parse(posts_dir, "t.md", {"title": "T", "slug": "/blog/my post?x/"})
    assert post.slug == "blog-my-post-x"


@pytest.mark.parametrize("key", ["src", "path", "url"])
def test_image_mapping_gives_its_address(posts_dir: Path, key: str) -> None:
    post = parse(posts_dir, "t.md", {"title": "T", "image": {key: "/img/a.png", "alt": "A"}})
    assert post.image == "/img/a.png"


@pytest.mark.parametrize(("raw", "minutes"), [("6 min", 6), (4, 4), (None, 1)])
def test_reading_time_from_text_number_or_word_count(
    posts_dir: Path, raw: Any, minutes: int
) -> None:
    post = parse(posts_dir, "t.md", {"title": "T", "readingTime": raw})
    assert post.reading_time == minutes


def test_front_matter_text_is_repaired_and_stripped_of_markup(posts_dir: Path) -> None:
    front = {"title": "I donâ€™t *like* it", "excerpt": "A **bold** [linked](/x) cafÃ©"}
    post = parse(posts_dir, "t.md", front)
    assert post.title == "I don’t like it"
    assert post.excerpt == "A bold linked café"


def test_front_matter_with_a_number_key_still_parses(posts_dir: Path) -> None:
    post = parse_raw(posts_dir, "t.md", "---\ntitle: Numbers\n2024: a good year\n---\nBody.\n")
    assert post.title == "Numbers"


# --- 3. Dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("yaml_value", "expected"),
    [
        ('"2024-01-02T03:04:05Z"', dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ('"2024-01-02T03:04:05+02:00"', dt.datetime(2024, 1, 2, 1, 4, 5, tzinfo=UTC)),
        ('"2024-01-02"', dt.datetime(2024, 1, 2, tzinfo=UTC)),
        ("2024-01-02", dt.datetime(2024, 1, 2, tzinfo=UTC)),
        ("2024-01-02 03:04:05", dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2024-01-02T03:04:05+02:00", dt.datetime(2024, 1, 2, 1, 4, 5, tzinfo=UTC)),
        ('"2024-01-02 03:04"', dt.datetime(2024, 1, 2, 3, 4, tzinfo=UTC)),
        ('"2010-10-22 11:33:15 -0400"', dt.datetime(2010, 10, 22, 15, 33, 15, tzinfo=UTC)),
        ('"2024-01-02T03:04:05"', dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
    ],
    ids=[
        "iso-z",
        "iso-offset",
        "date-string",
        "yaml-date",
        "yaml-naive-datetime",
        "yaml-aware-datetime",
        "minutes-only",
        "jekyll-offset",
        "naive-iso-is-utc",
    ],
)
def test_dates_become_aware_utc(posts_dir: Path, yaml_value: str, expected: dt.datetime) -> None:
    post = parse_raw(posts_dir, "t.md", f"---\ntitle: T\ndate: {yaml_value}\n---\nBody.\n")
    assert post.date == expected
    assert post.date is not None and post.date.tzinfo is not None
    assert post.date.utcoffset() == dt.timedelta(0)


def test_no_date_anywhere_is_none(posts_dir: Path) -> None:
    assert parse(posts_dir, "undated.md", {"title": "T"}).date is None


@pytest.mark.parametrize("value", ['"soon"', '"2024-13-45"', "12345"])
def test_invalid_date_is_a_parse_error_naming_the_file(posts_dir: Path, value: str) -> None:
    with pytest.raises(PostParseError) as caught:
        parse_raw(posts_dir, "when.md", f"---\ntitle: T\ndate: {value}\n---\nBody.\n")
    assert caught.value.path == "when.md"
    assert caught.value.reason.startswith("date ")
    assert str(caught.value).startswith("when.md: date ")


# --- 4. Visibility ----------------------------------------------------------------------------

NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "line",
    [
        "status: draft",
        "status: Private",
        "status: UNPUBLISHED",
        "status: archived",
        "draft: true",
        'draft: "true"',
        'draft: "yes"',
        "published: false",
        'published: "false"',
    ],
)
def test_hidden_front_matter_makes_a_draft(posts_dir: Path, line: str) -> None:
    post = parse_raw(posts_dir, "t.md", f"---\ntitle: T\ndate: 2024-01-01\n{line}\n---\nBody.\n")
    assert post.draft is True
    assert post.hidden_reason(NOW) == "draft"


@pytest.mark.parametrize(
    "line", ["draft: false", "published: true", 'status: "new"', "status: published"]
)
def test_visible_front_matter_is_not_a_draft(posts_dir: Path, line: str) -> None:
    post = parse_raw(posts_dir, "t.md", f"---\ntitle: T\ndate: 2024-01-01\n{line}\n---\nBody.\n")
    assert post.draft is False
    assert post.hidden_reason(NOW) is None


def test_future_post_is_scheduled_until_now_passes_its_date(posts_dir: Path) -> None:
    post = parse(posts_dir, "t.md", {"title": "T", "date": "2030-01-01T09:00:00Z"})
    assert post.draft is False
    assert post.hidden_reason(dt.datetime(2029, 12, 31, 23, 59, tzinfo=UTC)) == "scheduled"
    assert post.hidden_reason(dt.datetime(2030, 1, 1, 9, 0, 1, tzinfo=UTC)) is None


def test_a_future_draft_is_reported_as_a_draft(posts_dir: Path) -> None:
    post = parse(posts_dir, "t.md", {"title": "T", "date": "2030-01-01", "draft": True})
    assert post.hidden_reason(NOW) == "draft"


def test_invalid_draft_flag_is_a_parse_error(posts_dir: Path) -> None:
    with pytest.raises(PostParseError) as caught:
        parse(posts_dir, "t.md", {"title": "T", "draft": "maybe"})
    assert caught.value.path == "t.md"
    assert "draft must be true or false" in caught.value.reason


# --- 5. Body text -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "kept", "dropped"),
    [
        ("## The Heading Text\n\nBody.", ["The Heading Text"], ["##"]),
        ("* first item\n* second **bold** item", ["first item", "second bold item"], ["*"]),
        ("1. numbered step", ["numbered step"], ["1."]),
        ("> quoted wisdom here", ["quoted wisdom here"], [">"]),
        (
            "See [the docs page](https://x.example/z) now.",
            ["See the docs page now."],
            ["https://", "]("],
        ),
        ("![a cat on a mat](cat.png)", ["a cat on a mat"], ["cat.png", "!["]),
        ('<img src="a.png" alt="html alt text">', ["html alt text"], ["<img", "a.png"]),
        (
            "before\n\n<script>\nvar secret = 1;\n\nsecret();\n</script>\n\nafter",
            ["before", "after"],
            ["secret", "<script"],
        ),
        ("text <script>secret()</script> more", ["text more"], ["secret"]),
        ("<style>\n.secret { color: red }\n</style>\n\nvisible", ["visible"], ["secret", "{"]),
        ("before <!-- secret note --> after", ["before after"], ["secret", "<!--"]),
        ("<!--\nsecret\n\nnote\n-->\n\nvisible", ["visible"], ["secret"]),
        ("before {% include x.html %} after", ["before after"], ["{%", "include"]),
        ("see {{ site.baseurl }}/x now", ["see /x now"], ["{{", "baseurl"]),
        ("before {{< youtube abc >}} after", ["before after"], ["youtube", "{{<"]),
        ("{{% notice %}}Tip text{{% /notice %}}", ["Tip text"], ["notice", "{{%"]),
        ("a {% comment %}secret{% endcomment %} b", ["a b"], ["secret"]),
        ("Fish &amp; chips, caf&eacute; &#8212; done", ["Fish & chips, café — done"], ["&amp;"]),
        ("<p>AT&amp;T &lt;rocks&gt;</p>", ["AT&T <rocks>"], ["&amp;", "<p>"]),
        ("I donâ€™t like the cafÃ© much", ["I don’t like the café much"], ["â€", "Ã"]),
        ("Run `pip install flask` first.", ["Run pip install flask first."], ["`"]),
        ("```python\nprint('fenced')\n```", ["print('fenced')"], ["```"]),
        ("| a | b |\n|---|---|\n| cell one | cell two |", ["cell one", "cell two"], ["|"]),
        ("> " * 300 + "deeply quoted words", ["deeply quoted words"], [">"]),
        ("".join("  " * i + "- step\n" for i in range(300)) + "\nafter", ["step", "after"], ["-"]),
    ],
    ids=[
        "heading",
        "bullets",
        "numbered",
        "blockquote",
        "link",
        "image-alt",
        "html-img-alt",
        "script-block",
        "script-inline",
        "style",
        "comment-inline",
        "comment-block",
        "liquid-include",
        "liquid-variable",
        "hugo-shortcode",
        "hugo-paired-shortcode",
        "liquid-comment",
        "entities",
        "html-entities",
        "mojibake",
        "inline-code",
        "fence",
        "table",
        "300-deep-quote",
        "300-deep-list",
    ],
)
def test_body_text_keeps_what_readers_see(
    posts_dir: Path, body: str, kept: list[str], dropped: list[str]
) -> None:
    text = parse(posts_dir, "t.md", {"title": "T"}, body).body_text
    for phrase in kept:
        assert phrase in text
    for phrase in dropped:
        assert phrase not in text


@pytest.mark.parametrize(
    ("broken", "fixed"),
    [
        ("donâ€™t", "don’t"),
        ("cafÃ©", "café"),
        ("plain text", "plain text"),
        ("zero\u200bwidth", "zerowidth"),
        ("cafe\u0301", "café"),
    ],
)
def test_repair_text_fixes_mojibake_and_normalises(broken: str, fixed: str) -> None:
    assert repair_text(broken) == fixed


def test_markdown_to_text_separates_blocks_with_blank_lines() -> None:
    assert markdown_to_text("# One\n\n- two\n- three\n\nfour") == "One\n\ntwo\n\nthree\n\nfour"


# --- 6. Broken files --------------------------------------------------------------------------

BROKEN_FILES = [
    ("invalid-yaml", b"---\ntitle: [unclosed\n---\nBody.\n", "invalid YAML"),
    ("yaml-python-tag", b"---\ntitle: !!python/object:os.system x\n---\nBody.\n", "invalid YAML"),
    ("not-utf8", b"---\ntitle: \xff\xfe\n---\nbody", "not UTF-8"),
    ("empty", b"", "empty file"),
    ("whitespace-only", b"  \n\t\n   \n", "empty file"),
    ("nul-bytes", b"---\ntitle: Binary\n---\n\x00\x01\x02\x00body", "binary file"),
    ("front-matter-list", b"---\n- a\n- b\n---\nBody.\n", "not a mapping"),
    ("front-matter-list-and-heading", b"---\n- a\n- b\n---\n# Heading\n\nBody.\n", "not a mapping"),
    ("title-list", b"---\ntitle: [a, b]\n---\nBody.\n", "title must be text"),
    (
        "categories-mapping",
        b"---\ntitle: T\ncategories: {a: 1}\n---\nBody.\n",
        "categories must be a list",
    ),
    (
        "categories-mixed",
        b"---\ntitle: T\ncategories: [{type: general, name: A}, B]\n---\nB.\n",
        "categories mixes",
    ),
    (
        "reading-time-true",
        b"---\ntitle: T\nreadingTime: true\n---\nBody.\n",
        "readingTime must be a number",
    ),
    (
        "no-title-no-heading",
        b"---\ndate: 2024-01-01\n---\nJust text, no heading.\n",
        "missing title",
    ),
    ("empty-front-matter", b"---\n---\nJust text, no heading.\n", "missing title"),
]


@pytest.mark.parametrize(
    ("content", "reason"),
    [case[1:] for case in BROKEN_FILES],
    ids=[case[0] for case in BROKEN_FILES],
)
def test_broken_file_is_a_parse_error_naming_it(
    posts_dir: Path, content: bytes, reason: str
) -> None:
    posts_dir.mkdir()
    path = posts_dir / "broken.md"
    path.write_bytes(content)
    with pytest.raises(PostParseError) as caught:
        parse_post(path)
    error = caught.value
    assert error.path == str(path)
    assert reason in error.reason
    assert str(error) == f"{error.path}: {error.reason}"


def test_broken_file_path_is_relative_to_the_posts_folder(posts_dir: Path) -> None:
    path = posts_dir / "2024" / "broken.md"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"")
    with pytest.raises(PostParseError) as caught:
        parse_post(path, posts_dir)
    assert caught.value.path == "2024/broken.md"


def test_file_larger_than_the_limit_is_refused(posts_dir: Path) -> None:
    posts_dir.mkdir()
    path = posts_dir / "huge.md"
    head = b"---\ntitle: Huge\n---\n"
    path.write_bytes(head + b"x" * (MAX_FILE_BYTES + 1 - len(head)))
    with pytest.raises(PostParseError) as caught:
        parse_post(path, posts_dir)
    assert caught.value.path == "huge.md"
    assert caught.value.reason == "file is larger than 5 MB"


def test_file_exactly_at_the_limit_is_read(posts_dir: Path) -> None:
    posts_dir.mkdir()
    path = posts_dir / "big.md"
    head = b"---\ntitle: Big\n---\n"
    path.write_bytes(head + b"word " * ((MAX_FILE_BYTES - len(head)) // 5))
    assert path.stat().st_size <= MAX_FILE_BYTES
    assert parse_post(path, posts_dir).title == "Big"


def test_bom_and_crlf_file_parses(posts_dir: Path) -> None:
    text = "\ufeff---\r\ntitle: Windows post\r\nslug: windows\r\n---\r\n\r\n"
    text += "# Head\r\n\r\nLine one\r\n"
    post = parse_raw(posts_dir, "w.md", text)
    assert post.title == "Windows post"
    assert post.slug == "windows"
    assert post.body_text == "Head\n\nLine one"
    assert "\r" not in post.body_html


@pytest.mark.parametrize(
    "body",
    [
        "# The Real Heading\n\nSome body text.",
        "# The Real Heading #\n\nSome body text.",
        "Intro line.\n\n## The Real Heading\n\nSome body text.",
        "# The Real Heading\n\nIntro.\n\n---\n\nMiddle part.\n\n---\n\nEnd part.",
        "```bash\n# install the deps\npip install x\n```\n\n# The Real Heading\n\nBody.",
    ],
    ids=["atx", "closed-atx", "second-level", "two-thematic-breaks", "comment-in-code-block"],
)
def test_file_without_front_matter_takes_its_heading_as_title(posts_dir: Path, body: str) -> None:
    post = parse_raw(posts_dir, "no-front.md", body)
    assert post.title == "The Real Heading"
    assert post.slug == "no-front"
    assert post.body_text.startswith(markdown_to_text(body)[:20])


def test_file_without_front_matter_keeps_text_before_a_thematic_break(posts_dir: Path) -> None:
    body = "# Title\n\nIntro words.\n\n---\n\ntitle: Hijacked\n\n---\n\nEnd words.\n"
    post = parse_raw(posts_dir, "rules.md", body)
    assert post.title == "Title"
    assert "Intro words." in post.body_text


# --- 7. Languages -----------------------------------------------------------------------------


def test_french_prose_is_not_english(posts_dir: Path) -> None:
    assert len(FRENCH_PROSE.split()) >= 60
    assert parse(posts_dir, "fr.md", {"title": "Randonnée"}, FRENCH_PROSE).lang != "en"


@pytest.mark.parametrize(
    ("front", "lang"),
    [
        ({"lang": "fr"}, "fr"),
        ({"lang": "fr-CA"}, "fr"),
        ({"language": "FR"}, "fr"),
        ({"locale": "fr_FR"}, "fr"),
        ({"lang": "en"}, "en"),
    ],
)
def test_declared_language_wins(posts_dir: Path, front: dict[str, str], lang: str) -> None:
    assert parse(posts_dir, "fr.md", {"title": "T", **front}, FRENCH_PROSE).lang == lang


def test_english_prose_is_english(posts_dir: Path) -> None:
    assert parse(posts_dir, "en.md", {"title": "Walk"}, ENGLISH_PROSE).lang == "en"


# --- 8. Loading a folder ----------------------------------------------------------------------


@pytest.fixture()
def mixed_folder(posts_dir: Path) -> Path:
    write_post(posts_dir, "zeta.md", {"title": "Zeta"}, BODY)
    write_post(posts_dir, "alpha.markdown", {"title": "Alpha"}, BODY)
    write_post(posts_dir / "2021" / "deep", "gamma.md", {"title": "Gamma"}, BODY)
    write_post(posts_dir / "2021", "beta.MD", {"title": "Beta"}, BODY)
    write_post(posts_dir / ".git", "x.md", {"title": "Hidden"}, BODY)
    write_post(posts_dir, ".draft-notes.md", {"title": "Hidden file"}, BODY)
    (posts_dir / "notes.txt").write_text("# Not a post\n", encoding="utf-8")
    (posts_dir / "2021" / "broken-yaml.md").write_text("---\ntitle: [x\n---\nB.\n", "utf-8")
    (posts_dir / "empty.md").write_bytes(b"")
    return posts_dir


def test_find_post_files_is_sorted_and_skips_hidden_and_non_posts(mixed_folder: Path) -> None:
    found = [p.relative_to(mixed_folder).as_posix() for p in find_post_files(mixed_folder)]
    assert found == [
        "2021/beta.MD",
        "2021/broken-yaml.md",
        "2021/deep/gamma.md",
        "alpha.markdown",
        "empty.md",
        "zeta.md",
    ]


def test_load_posts_returns_good_posts_and_one_error_per_broken_file(mixed_folder: Path) -> None:
    report = load_posts(mixed_folder)
    assert isinstance(report, LoadReport)
    assert [p.path for p in report.posts] == [
        "2021/beta.MD",
        "2021/deep/gamma.md",
        "alpha.markdown",
        "zeta.md",
    ]
    assert [p.title for p in report.posts] == ["Beta", "Gamma", "Alpha", "Zeta"]
    assert [(e.path, e.reason.split(":")[0]) for e in report.errors] == [
        ("2021/broken-yaml.md", "invalid YAML front matter"),
        ("empty.md", "empty file"),
    ]


def test_load_posts_on_an_empty_folder_is_empty(posts_dir: Path) -> None:
    posts_dir.mkdir()
    report = load_posts(posts_dir)
    assert report.posts == [] and report.errors == []


def test_content_hash_follows_the_file_bytes(posts_dir: Path) -> None:
    first = parse(posts_dir, "a.md", {"title": "T"}, "Same body.")
    same = parse(posts_dir, "b.md", {"title": "T"}, "Same body.")
    changed = parse(posts_dir, "c.md", {"title": "T"}, "Other body.")
    assert first.content_hash == same.content_hash != changed.content_hash


# --- 9. The shipped sample corpus -------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_report() -> LoadReport:
    return load_posts(SAMPLE_POSTS)


def test_sample_corpus_parses_without_errors(sample_report: LoadReport) -> None:
    assert [str(e) for e in sample_report.errors] == []
    assert len(sample_report.posts) == len(find_post_files(SAMPLE_POSTS)) >= 40


def test_sample_corpus_slugs_are_unique(sample_report: LoadReport) -> None:
    slugs = [p.slug for p in sample_report.posts]
    assert len(slugs) == len(set(slugs))


def test_sample_corpus_covers_many_general_categories(sample_report: LoadReport) -> None:
    general = {c.name for p in sample_report.posts for c in p.categories if c.level == "general"}
    assert len(general) >= 6


def test_sample_corpus_has_drafts_and_real_world_shapes(sample_report: LoadReport) -> None:
    posts = sample_report.posts
    assert sum(p.draft for p in posts) >= 3
    assert any(c.level == "unknown" for p in posts for c in p.categories)
    assert any(p.aliases for p in posts)
    assert any(p.lang != "en" for p in posts)
    assert any(p.path.endswith(".markdown") and "/" in p.path for p in posts)


def test_sample_corpus_fields_are_typed(sample_report: LoadReport) -> None:
    for post in sample_report.posts:
        assert post.title and post.slug and post.excerpt, post.path
        assert post.date is not None and post.date.utcoffset() == dt.timedelta(0), post.path
        assert isinstance(post.reading_time, int) and post.reading_time >= 1, post.path
        assert all(c.level in (*LEVELS, "unknown") for c in post.categories), post.path


_ORDINARY = ["a", "b", " ", "  ", "\t", "\u00a0", "\n", "\n\n", "\n \n"]


@given(
    st.one_of(
        st.lists(st.sampled_from(_ORDINARY), max_size=40),  # the whole-text path
        st.lists(
            st.sampled_from([*_ORDINARY, "\r", "\u2028", "\x0c", "\u3000", "\x1c", "\x85"]),
            max_size=40,
        ),
    ).map("".join)
)
@settings(max_examples=400, deadline=None)
def test_tidy_whitespace_equals_tidying_line_by_line(text: str) -> None:
    """The whole-text path for ordinary whitespace gives what the line-by-line one does."""
    from index.text import _BLANK_LINES, _SPACES

    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    assert tidy_whitespace(text) == _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def test_other_whitespace_is_every_space_but_the_ordinary_four() -> None:
    from index.text import OTHER_WHITESPACE_CHARS

    spaces = {chr(c) for c in range(0x110000) if chr(c).isspace()}
    assert set(OTHER_WHITESPACE_CHARS) == spaces - {" ", "\t", "\u00a0", "\n"}
