"""Parse Markdown posts with front matter into typed, validated `Post` records.

This is the one place that knows the many spellings of front matter (the seed's
camelCase fields, Jekyll `categories: [a, b]`, Hugo `topics`/`summary`/`aliases`,
strings like "false"); everything after it reads `Post` attributes only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from frontmatter.default_handlers import YAMLHandler

from .errors import PostParseError
from .language import detect_language
from .sanitise import sanitise_html
from .text import RenderedText, inline_to_text, render_markdown, repair_text
from .values import as_bool, as_datetime, as_int, as_list, as_text

LEVELS = ("exact", "general", "medium", "specific", "niche")
UNKNOWN_LEVEL = "unknown"
HIDDEN_STATUSES = frozenset({"draft", "private", "unpublished", "archived"})
POST_SUFFIXES = (".md", ".markdown")
MAX_FILE_BYTES = 5 * 1024 * 1024
_DATE_PREFIX = re.compile(r"^(\d{4})-(\d{2})-(\d{2})-(.+)$")
_SLUG_UNSAFE = re.compile(r"[\s/\\?#%]+")
_EXCERPT_CHARS = 280
_FLAT_LEVELS = ("exact", UNKNOWN_LEVEL)
PIN_FIELDS = ("related", "related_posts", "relatedPosts")
EXCLUDE_FIELDS = ("related_exclude", "relatedExclude")
_MAX_PIN_REFS = 100
_MAX_REF_CHARS = 300
_REF_KEYS = ("slug", "url", "path", "file", "post", "link", "href", "permalink")


@dataclass(frozen=True)
class Category:
    """A category name with its level in the hierarchy (or "unknown")."""

    name: str
    level: str = UNKNOWN_LEVEL


@dataclass(frozen=True)
class Post:
    """One parsed post; `path` is relative to the posts folder."""

    slug: str
    title: str
    path: str
    date: dt.datetime | None
    excerpt: str
    body_text: str
    content_hash: str
    meta_description: str | None = None
    category: tuple[str, ...] = ()
    categories: tuple[Category, ...] = ()
    tags: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    status: str | None = None
    draft: bool = False
    trending: bool = False
    featured: bool = False
    image: str | None = None
    image_alt: str | None = None
    image_credit: str | None = None
    reading_time: int = 0
    social_share: str | None = None
    generated_by: str | None = None
    lang: str = "en"
    related: tuple[str, ...] = ()  # editor pins, as written: slugs, file names, URLs
    related_exclude: tuple[str, ...] = ()
    body_html: str = field(default="", repr=False)  # sanitised, for the post page

    def hidden_reason(self, now: dt.datetime) -> str | None:
        """Return "draft" or "scheduled" when readers must not see the post at `now`."""
        if self.draft:
            return "draft"
        if self.date is not None and self.date > now:
            return "scheduled"
        return None

    @property
    def labels(self) -> tuple[str, ...]:
        """Every tag and keyword, deduplicated case-insensitively, in file order."""
        seen: dict[str, str] = {}
        for name in (*self.tags, *self.keywords):
            seen.setdefault(name.casefold(), name)
        return tuple(seen.values())


class _SafeYAML(YAMLHandler):
    """Front-matter handler that always uses PyYAML's safe loader (C version when built)."""

    def load(self, fm: str, **kwargs: object) -> Any:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        return yaml.load(fm, Loader=loader)  # noqa: S506 - a safe loader


_HANDLER = _SafeYAML()


def find_post_files(posts_dir: Path) -> list[Path]:
    """Return every *.md / *.markdown file under `posts_dir`, recursively, in sorted order.

    Hidden files and folders (".git", ".drafts") are skipped.
    """
    return [Path(entry.path) for _, entry in post_file_entries(posts_dir)]


def post_file_entries(posts_dir: Path) -> list[tuple[str, os.DirEntry[str]]]:
    """(path relative to `posts_dir` with "/" separators, directory entry) of every post
    file, sorted by that path. Directory entries carry their file type and cache their
    `stat()`: a reindex with nothing to do stats each of 57k files once."""
    found: list[tuple[str, os.DirEntry[str]]] = []
    folders = [(str(posts_dir), "")]
    while folders:
        folder, prefix = folders.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                if entry.is_dir(follow_symlinks=False):
                    folders.append((entry.path, f"{prefix}{entry.name}/"))
                elif entry.name.lower().endswith(POST_SUFFIXES) and entry.is_file():
                    found.append((prefix + entry.name, entry))
    found.sort(key=lambda item: item[0])
    return found


def parse_post(path: Path, posts_dir: Path | None = None) -> Post:
    """Read one post file.

    Raises PostParseError (with the path and a reason) for unreadable, empty, non-UTF-8,
    invalid-YAML or wrongly typed files.
    """
    shown = path.relative_to(posts_dir).as_posix() if posts_dir else str(path)
    raw = _read_bytes(path, shown)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PostParseError(shown, f"not UTF-8 (byte {exc.start})") from None
    if "\x00" in text:
        raise PostParseError(shown, "binary file (contains NUL bytes)")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise PostParseError(shown, "empty file")
    metadata, body = _split_front_matter(text, shown)
    try:
        return _build_post(metadata, body, path.name, shown, raw)
    except (ValueError, OverflowError) as exc:
        raise PostParseError(shown, str(exc)) from None


def _split_front_matter(text: str, shown: str) -> tuple[dict[str, Any], str]:
    """Front matter (YAML between `---` lines at the very top) and the body after it.

    A file that does not start with `---` has no front matter, so a `---` rule later in
    the body is never mistaken for it.
    """
    if not _HANDLER.detect(text):
        return {}, text
    try:
        front, body = _HANDLER.split(text)
        metadata = _HANDLER.load(front)
    except yaml.YAMLError as exc:
        raise PostParseError(shown, f"invalid YAML front matter: {_first_line(exc)}") from None
    except Exception as exc:  # noqa: BLE001 - explicit YAML tags (!!timestamp x) raise
        # AttributeError, KeyError, IndexError...: any failure is this file's problem
        raise PostParseError(shown, f"unreadable front matter: {_first_line(exc)}") from None
    if metadata is None:
        return {}, body
    if not isinstance(metadata, dict):
        raise PostParseError(shown, "front matter is not a mapping of fields")
    return {str(key): value for key, value in metadata.items()}, body


def _read_bytes(path: Path, shown: str) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise PostParseError(shown, f"file is larger than {MAX_FILE_BYTES // 1024 // 1024} MB")
        return path.read_bytes()
    except OSError as exc:
        raise PostParseError(shown, f"cannot read file: {exc.strerror or exc}") from None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def _build_post(meta: dict[str, Any], body: str, filename: str, shown: str, raw: bytes) -> Post:
    file_date, file_slug = _split_filename(filename)
    rendered = render_markdown(body, html=True)
    body_text = rendered.text
    title = _first_text(meta, "title") or rendered.first_heading
    if not title:
        raise ValueError("missing title (no `title` field and no heading in the body)")
    slug = normalize_slug(_first_text(meta, "slug") or file_slug)
    if not slug:
        raise ValueError("cannot derive a slug from the file name")
    date = as_datetime(meta.get("date"), "date") or file_date
    excerpt_source = _first_text(meta, "excerpt", "description", "summary", "metaDescription")
    excerpt = inline_to_text(excerpt_source) if excerpt_source else _lead(rendered)
    exact = as_list(meta.get("category"), "category")
    aliases = _aliases(meta, file_slug, slug)
    status = (_first_text(meta, "status") or "").lower() or None
    return Post(
        slug=slug,
        title=inline_to_text(title) or title,
        path=shown,
        date=date,
        excerpt=excerpt,
        body_text=body_text,
        content_hash=hashlib.sha256(raw).hexdigest(),
        meta_description=_first_text(meta, "metaDescription", "description"),
        category=tuple(exact),
        categories=_categories(meta.get("categories"), exact),
        tags=tuple(
            dict.fromkeys(as_list(meta.get("tags"), "tags") + as_list(meta.get("topics"), "topics"))
        ),
        keywords=tuple(as_list(meta.get("keywords"), "keywords")),
        authors=_authors(meta),
        aliases=aliases,
        status=status,
        draft=_is_draft(meta, status),
        trending=bool(as_bool(meta.get("trending"), "trending")),
        featured=bool(as_bool(meta.get("featured"), "featured")),
        image=_image(meta),
        image_alt=_first_text(meta, "imageAlt", "image_alt"),
        image_credit=_first_text(meta, "imageCredit", "image_credit"),
        reading_time=as_int(meta.get("readingTime"), "readingTime") or _reading_time(body_text),
        social_share=_first_text(meta, "socialShare"),
        generated_by=_first_text(meta, "generatedBy"),
        lang=detect_language(body_text, _first_text(meta, "lang", "language", "locale")),
        related=pin_references(meta, PIN_FIELDS),
        related_exclude=pin_references(meta, EXCLUDE_FIELDS),
        body_html=sanitise_html(rendered.html),
    )


def _first_text(meta: dict[str, Any], *keys: str) -> str | None:
    for key in keys:
        text = as_text(meta.get(key), key)
        text = " ".join(repair_text(text).split()) if text else None
        if text:  # checked after cleaning: invisible characters alone are no value
            return text
    return None


def _split_filename(filename: str) -> tuple[dt.datetime | None, str]:
    stem = filename.rsplit(".", 1)[0]
    match = _DATE_PREFIX.match(stem)
    if not match:
        return None, stem
    year, month, day, rest = match.groups()
    try:
        return dt.datetime(int(year), int(month), int(day), tzinfo=dt.UTC), rest
    except ValueError:
        return None, stem


def normalize_slug(value: str) -> str:
    """Make a slug safe for one URL path segment: no spaces, slashes or query characters,
    and never "." or ".." (which browsers resolve away)."""
    slug = _SLUG_UNSAFE.sub("-", value.strip().strip("/")).strip("-")
    return "" if set(slug) <= {"."} else slug


def _lead(rendered: RenderedText) -> str:
    """First paragraph of the body, cut at a word boundary, as a fallback excerpt."""
    first = rendered.first_paragraph or " ".join(rendered.text.split()[:60])
    if len(first) <= _EXCERPT_CHARS:
        return first
    return first[:_EXCERPT_CHARS].rsplit(" ", 1)[0] + "…"


def _categories(value: Any, exact: list[str]) -> tuple[Category, ...]:
    found: dict[str, Category] = {}
    if isinstance(value, list) and any(isinstance(item, dict) for item in value):
        for item in value:
            if item is None:
                continue
            if not isinstance(item, dict):
                raise ValueError("categories mixes {type, name} entries with plain names")
            name = as_text(item.get("name"), "a category name")
            level = (as_text(item.get("type"), "a category type") or "").lower()
            if name:
                level = level if level in LEVELS else UNKNOWN_LEVEL
                _add_category(found, Category(repair_text(name), level))
    else:
        for name in as_list(value, "categories"):
            found.setdefault(name.casefold(), Category(repair_text(name), UNKNOWN_LEVEL))
    for name in exact:
        key = name.casefold()
        if key not in found or found[key].level == UNKNOWN_LEVEL:
            found[key] = Category(repair_text(name), "exact")
    return tuple(found.values())


def _add_category(found: dict[str, Category], category: Category) -> None:
    """Keep one entry per name; a hierarchy level (general..niche) beats exact/unknown,
    because it says where the category sits (the seed repeats its niche as `exact`)."""
    key = category.name.casefold()
    held = found.get(key)
    if held is None or (held.level in _FLAT_LEVELS and category.level not in _FLAT_LEVELS):
        found[key] = category


def _authors(meta: dict[str, Any]) -> tuple[str, ...]:
    names: list[str] = []
    for key in ("authors", "author"):
        value = meta.get(key)
        entries = value if isinstance(value, list) else [value]
        for entry in entries:
            if isinstance(entry, dict):  # Jekyll: {name, mail, url, avatar}
                entry = entry.get("name") or entry.get("display_name")
            for name in as_list(entry, key) if not isinstance(entry, dict) else []:
                if name not in names:
                    names.append(name)
    return tuple(names)


def _aliases(meta: dict[str, Any], file_slug: str, slug: str) -> tuple[str, ...]:
    found: list[str] = []
    for key in ("aliases", "alias", "redirect_from"):
        value = meta.get(key)
        items = value if isinstance(value, list) else [value]
        for item in items:
            text = as_text(item, key)
            if text and text not in found:
                found.append(text)
    old_slug = normalize_slug(file_slug)
    if old_slug and old_slug != slug and old_slug not in found:
        found.append(old_slug)
    return tuple(found)


def pin_references(meta: dict[str, Any], keys: tuple[str, ...]) -> tuple[str, ...]:
    """Related-post references from every one of `keys` present, as written.

    Never raises: a pin field is an editor's wish, not part of the post, so an entry
    that names nothing usable is kept as a description and reported by the reindex
    instead of making the whole post unreadable. Accepts a list, a comma-separated
    string, and entries that are mappings with a slug/url/path (some themes write
    `- {slug: x}`).
    """
    refs: list[str] = []
    for key in keys:
        value = meta.get(key)
        if value is None:
            continue
        items = value if isinstance(value, list) else [value]
        for item in items[:_MAX_PIN_REFS]:
            for ref in _pin_texts(item):
                if ref not in refs:
                    refs.append(ref)
    return tuple(refs[:_MAX_PIN_REFS])


def _pin_texts(item: Any) -> list[str]:
    if item is None or isinstance(item, bool):
        return [] if item is None else [f"<{str(item).lower()}>"]
    if isinstance(item, (int, float, dt.date)):
        item = str(item)
    if isinstance(item, str):
        parts = [repair_text(p).strip() for p in item.split(",")]
        return [part[:_MAX_REF_CHARS] for part in parts if part]
    if isinstance(item, dict):
        for key in _REF_KEYS:
            if isinstance(item.get(key), (str, int)) and str(item[key]).strip():
                return [repair_text(str(item[key])).strip()[:_MAX_REF_CHARS]]
        return ["<a mapping without slug, url or path>"]
    return [f"<a {type(item).__name__}>"]


def _is_draft(meta: dict[str, Any], status: str | None) -> bool:
    if status in HIDDEN_STATUSES:
        return True
    if as_bool(meta.get("draft"), "draft"):
        return True
    return as_bool(meta.get("published"), "published") is False


def _image(meta: dict[str, Any]) -> str | None:
    value = meta.get("image")
    if isinstance(value, dict):  # Hugo/Jekyll themes: {path|src|url: ...}
        value = value.get("src") or value.get("path") or value.get("url")
    return as_text(value, "image")


def _reading_time(body_text: str) -> int:
    return max(1, round(len(body_text.split()) / 230))


@dataclass
class LoadReport:
    """Posts that parsed and files that did not, with the reason for each."""

    posts: list[Post]
    errors: list[PostParseError]


def iter_posts(posts_dir: Path) -> Iterator[Post | PostParseError]:
    """Yield a `Post` or the `PostParseError` of every post file, in path order."""
    for path in find_post_files(posts_dir):
        try:
            yield parse_post(path, posts_dir)
        except PostParseError as error:
            yield error


def load_posts(posts_dir: Path) -> LoadReport:
    """Parse every post under `posts_dir`; broken files are collected, never raised."""
    report = LoadReport(posts=[], errors=[])
    for item in iter_posts(posts_dir):
        (report.errors if isinstance(item, PostParseError) else report.posts).append(item)
    return report
