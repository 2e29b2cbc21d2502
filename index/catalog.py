"""The catalog: what the searcher needs to show a post, in TF-IDF row order.

Search hits, related lists and the post endpoint read this instead of the posts
folder, so serving never touches the source files. It is a store of one JSON record
per line (`posts.jsonl`, see blobs.py): a worker reads the records it shows instead of
holding every one (a few hundred megabytes of Python objects at 57k posts).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from .blobs import CATALOG, BlobStore, Carried, write_blobs, write_layered
from .posts import Post
from .schema import excerpt_in_body

CATALOG_FILE = f"{CATALOG}.jsonl"
SUMMARY_FILE = "summary.json"
# The label columns (and pins) beside it: a worker opening a build reads only
# SUMMARY_FILE. Parsing the categories alone was 0.4 s of every worker's open at 57k
# posts, and the build numbers the facets from them itself (see facet_values.py).
LABELS_FILE = "summary.labels.json"


def post_record(post: Post) -> dict[str, Any]:
    """Return the JSON-ready public fields of a post."""
    return {
        "slug": post.slug,
        "title": post.title,
        "excerpt": post.excerpt,
        "date": post.date.isoformat().replace("+00:00", "Z") if post.date else None,
        "category": list(post.category),
        "categories": [{"name": c.name, "level": c.level} for c in post.categories],
        "tags": list(post.tags),
        "keywords": list(post.keywords),
        "authors": list(post.authors),
        "aliases": list(post.aliases),
        "status": post.status,
        "trending": post.trending,
        "featured": post.featured,
        "image": post.image,
        "image_alt": post.image_alt,
        "image_credit": post.image_credit,
        "reading_time": post.reading_time,
        "meta_description": post.meta_description,
        "social_share": post.social_share,
        "generated_by": post.generated_by,
        "lang": post.lang,
        "related": list(post.related),
        "related_exclude": list(post.related_exclude),
        "path": post.path,
        "content_hash": post.content_hash,
        "excerpt_in_body": excerpt_in_body(post),
    }


def alias_key(ref: str) -> str:
    """Normalise a slug, path or URL so "/Old/Post/", "old/post" and "https://x/old/post" agree."""
    if "://" in ref:
        ref = ref.split("://", 1)[1].partition("/")[2]
    ref = ref.split("?", 1)[0].split("#", 1)[0].strip().strip("/")
    return ref.removesuffix(".html").casefold()


def alias_conflicts(records: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    """Aliases that name another post's slug, or that two posts both claim."""
    owner: dict[str, str] = {alias_key(r["slug"]): r["slug"] for r in records}
    conflicts = []
    for record in sorted(records, key=lambda r: r["path"]):
        for alias in record["aliases"]:
            key = alias_key(alias)
            held = owner.setdefault(key, record["slug"])
            if held != record["slug"]:
                conflicts.append({"alias": alias, "slug": record["slug"], "kept_by": held})
    return conflicts


@dataclass
class CarriedCatalog:
    """What an incremental build takes over from the previous build's catalog."""

    build_dir: Path
    summary: dict[str, list[Any]]  # its summary columns
    rows: Sequence[int | None]  # per record of the new build, its row there (None: changed)


def save_catalog(
    records: Sequence[dict[str, Any]], out_dir: Path, carried: CarriedCatalog | None = None
) -> dict[str, list[Any]]:
    """Write the catalog store with one record per indexed post, and its summary
    (returned: the facets are numbered from it).

    With `carried`, unchanged records are shared with the previous build instead of
    written again, and their summary values copied from its summary.
    """
    if carried is None:
        write_blobs(out_dir, CATALOG, records)
        summary = summary_columns(records)
    else:
        items = (
            record if row is None else Carried(row)
            for record, row in zip(records, carried.rows, strict=True)
        )
        write_layered(out_dir, CATALOG, carried.build_dir, items)
        summary = _spliced_summary(records, carried)
    serving = {name: summary[name] for name in summary if name not in LABEL_COLUMNS}
    (out_dir / SUMMARY_FILE).write_bytes(orjson.dumps(serving))
    labels = {name: summary[name] for name in summary if name in LABEL_COLUMNS}
    (out_dir / LABELS_FILE).write_bytes(orjson.dumps(labels))
    return summary


def _spliced_summary(records: Sequence[dict[str, Any]], carried: CarriedCatalog) -> dict:
    """The summary of `records`: carried rows' values from the previous summary, changed
    posts' from their records (the same as `summary_columns(records)`)."""
    rows = carried.rows
    fresh = summary_columns(r for r, row in zip(records, rows, strict=True) if row is None)
    columns: dict[str, list[Any]] = {}
    for name in _SUMMARY_COLUMNS:
        old, new = carried.summary[name], iter(fresh[name])
        columns[name] = [next(new) if row is None else old[row] for row in rows]
    columns[_PINS] = [
        [row, r["related"], r["related_exclude"]]
        for row, r in enumerate(records)
        if r["related"] or r["related_exclude"]
    ]
    return columns


def summary_columns(records: Iterable[dict[str, Any]]) -> dict[str, list[Any]]:
    """Every post's slug, date, aliases, flags, path and labels, one column per field,
    plus the few posts' pins: what workers (the serving columns) and incremental builds
    (all of them) need of every post. Saved as two files (see LABELS_FILE).

    Workers read this at start instead of decoding every catalog record: at 57k posts
    that pass left ~130 MB in each worker, because the values kept (slugs, dates) were
    scattered among freed records and no memory page could be given back. Decoded
    column by column, what is kept sits together and the rest is freed whole.
    """
    columns: dict[str, list[Any]] = {name: [] for name in _SUMMARY_COLUMNS}
    pins = []
    for row, record in enumerate(records):
        for name in _SUMMARY_COLUMNS:
            value = record[name] if name in record else _ADDED_COLUMNS[name]
            if name == "categories":
                value = [[c["name"], c["level"]] for c in value]
            columns[name].append(value)
        if record["related"] or record["related_exclude"]:
            pins.append([row, record["related"], record["related_exclude"]])
    columns[_PINS] = pins
    return columns


_SUMMARY_COLUMNS = (
    "slug",
    "date",
    "aliases",
    "featured",
    "trending",
    "categories",  # [name, level] pairs
    "tags",
    "keywords",
    "authors",
    "path",  # references to a post may name its file
    "excerpt_in_body",  # phrase queries need not read the excerpt
)
# Columns newer than some catalogs, and their value for the posts of those.
_ADDED_COLUMNS = {"excerpt_in_body": False}
# What a worker reads when it opens a build (the rest is in LABELS_FILE).
SERVING_COLUMNS = ("slug", "date", "aliases", "featured", "trending", "path", "excerpt_in_body")
# Sparse (few posts pin related posts): [row, related, related_exclude] of each post
# naming any. For incremental builds, which read every post's summary, not workers.
_PINS = "pins"
LABEL_COLUMNS = frozenset({"categories", "tags", "keywords", "authors", _PINS})


def summary_records(columns: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Every post's summary fields and pins, as records in row order (from a build's
    `load_summary`).

    What an incremental build needs of the posts it does not parse again (slugs,
    paths, dates, labels, aliases, pins), without decoding every catalog record: at
    57k posts that took 1.8 s, the summary a tenth of it. The catalog lines of those
    posts are shared with the previous build as they are (see `save_catalog`).
    """
    records = [
        dict(zip(_SUMMARY_COLUMNS, values, strict=True))
        for values in zip(*(columns[name] for name in _SUMMARY_COLUMNS), strict=True)
    ]
    for record in records:
        record["categories"] = [{"name": n, "level": level} for n, level in record["categories"]]
        record["related"], record["related_exclude"] = [], []
    for row, related, excluded in columns[_PINS]:
        records[row]["related"], records[row]["related_exclude"] = related, excluded
    return records


def load_summary(
    build_dir: Path, columns_wanted: Sequence[str] | None = None
) -> dict[str, list[Any]]:
    """The build's summary columns (derived from the catalog for builds made before
    them, or before one of the columns). With `columns_wanted`, at least those: when
    SUMMARY_FILE holds them all, the label columns beside it are not read."""
    path = build_dir / SUMMARY_FILE
    if path.exists():
        columns = json.loads(path.read_text(encoding="utf-8"))
        if columns_wanted is not None and all(name in columns for name in columns_wanted):
            return columns
        labels = build_dir / LABELS_FILE
        if labels.exists():  # builds that keep them apart
            columns |= json.loads(labels.read_text(encoding="utf-8"))
        for name, value in _ADDED_COLUMNS.items():  # the same for every post of such builds
            if name not in columns and "slug" in columns:
                columns[name] = [value] * len(columns["slug"])
        if all(name in columns for name in (*_SUMMARY_COLUMNS, _PINS)):
            return columns
        del columns
    records = CatalogRecords(build_dir)
    try:
        return summary_columns(records)
    finally:
        records.close()


def load_catalog(build_dir: Path) -> list[dict[str, Any]]:
    """Every record of a build's catalog, in row order (for builds and tools)."""
    records = CatalogRecords(build_dir)
    try:
        return list(records)
    finally:
        records.close()


class CatalogRecords(Sequence[dict[str, Any]]):
    """A build's catalog, decoded a record at a time from the mapped store (for workers).

    Each access decodes a fresh dict, so callers may change what they get.
    """

    def __init__(self, build_dir: Path) -> None:
        self._store = BlobStore(build_dir, CATALOG)

    def __len__(self) -> int:
        return len(self._store)

    def __getitem__(self, row):  # type: ignore[override]
        if isinstance(row, slice):
            return [self[i] for i in range(*row.indices(len(self)))]
        return self._store.get(row + len(self) if row < 0 else row)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (self._store.get(row) for row in range(len(self)))

    def close(self) -> None:
        self._store.close()
