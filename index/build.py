"""Build a complete index (full text, TF-IDF, related lists, catalog) and publish it.

Every build goes to a fresh private directory; only when all artifacts and the
manifest are written and checked does `current` switch to it, so a failed or killed
reindex leaves the served build untouched.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from .catalog import save_catalog
from .errors import NothingToBuild, PostParseError
from .fulltext import build_fulltext
from .manifest import read_manifest, verify_build, write_manifest
from .posts import Post, find_post_files, parse_post
from .related import RelatedSettings, compute_related
from .store import (
    current_build_dir,
    new_build_dir,
    prune_builds,
    publish_build,
    remove_abandoned,
    writer_lock,
)
from .tfidf import fit_tfidf, save_tfidf

FULLTEXT_DIR = "fulltext"


class Progress(Protocol):
    """Receives build progress; the CLI draws bars, tests pass nothing."""

    def stage(self, name: str, total: int) -> None: ...

    def advance(self, count: int = 1) -> None: ...


class _Silent:
    def stage(self, name: str, total: int) -> None:
        pass

    def advance(self, count: int = 1) -> None:
        pass


@dataclass(frozen=True)
class BuildOptions:
    """What a reindex does; everything that changes the output is saved in the manifest."""

    full: bool = False
    wait_seconds: float = 0.0
    keep_builds: int = 3
    grace_seconds: float = 60.0
    related: RelatedSettings = field(default_factory=RelatedSettings)


@dataclass
class DuplicateSlug:
    """A post whose slug was taken by an earlier file (by path) and got a suffix."""

    slug: str
    path: str
    kept_by: str
    renamed_to: str


@dataclass
class BuildResult:
    """What a reindex did, for the CLI summary and the manifest."""

    build_id: str
    build_dir: Path | None
    changed: bool
    files: int = 0
    indexed: int = 0
    drafts: int = 0
    scheduled: int = 0
    skipped: list[PostParseError] = field(default_factory=list)
    duplicates: list[DuplicateSlug] = field(default_factory=list)
    seconds: float = 0.0


def build(posts_dir: Path, index_dir: Path, options: BuildOptions | None = None,
          progress: Progress | None = None, now: dt.datetime | None = None) -> BuildResult:
    """Parse `posts_dir`, build an index under `index_dir` and make it current.

    Returns without writing anything when no post changed since the current build
    (unless `options.full`). Raises NothingToBuild when no post can be indexed,
    ReindexLocked when another reindex runs; the current build is untouched on any error.
    """
    options = options or BuildOptions()
    progress = progress or _Silent()
    started = time.monotonic()
    with writer_lock(index_dir, options.wait_seconds):
        remove_abandoned(index_dir)
        posts, skipped, files = _parse_all(posts_dir, progress)
        posts, duplicates = resolve_duplicate_slugs(posts)
        drafts = [p for p in posts if p.draft]
        indexed = [p for p in posts if not p.draft]
        scheduled = [p for p in indexed if p.hidden_reason(now or _utcnow()) == "scheduled"]
        if not indexed:
            raise NothingToBuild(_nothing_reason(posts_dir, files, skipped, drafts))
        digest = corpus_digest(posts_dir, posts, skipped, options)
        result = BuildResult(
            build_id=new_build_id(), build_dir=None, changed=True, files=files,
            indexed=len(indexed), drafts=len(drafts), scheduled=len(scheduled),
            skipped=skipped, duplicates=duplicates,
        )
        current = current_build_dir(index_dir)
        if not options.full and current is not None and _digest_of(current) == digest:
            result.build_id, result.build_dir, result.changed = current.name, current, False
        else:
            result.build_dir = _write_build(index_dir, indexed, drafts, result, digest, options,
                                            progress, started)
        prune_builds(index_dir, options.keep_builds, options.grace_seconds)
    result.seconds = time.monotonic() - started
    return result


def _parse_all(posts_dir: Path, progress: Progress) -> tuple[list[Post], list[PostParseError], int]:
    if not posts_dir.is_dir():
        raise NothingToBuild(f"posts folder {posts_dir} does not exist")
    paths = find_post_files(posts_dir)
    progress.stage("parse", len(paths))
    posts: list[Post] = []
    skipped: list[PostParseError] = []
    for path in paths:
        try:
            posts.append(parse_post(path, posts_dir))
        except PostParseError as error:
            skipped.append(error)
        progress.advance()
    return posts, skipped, len(paths)


def resolve_duplicate_slugs(posts: Sequence[Post]) -> tuple[list[Post], list[DuplicateSlug]]:
    """Give every post a unique slug: the first file (by path) keeps it, later ones get -2, -3."""
    taken: dict[str, str] = {}
    wanted = {p.slug.casefold() for p in posts}
    result: list[Post] = []
    duplicates: list[DuplicateSlug] = []
    for post in sorted(posts, key=lambda p: p.path):
        key = post.slug.casefold()
        if key not in taken:
            taken[key] = post.path
            result.append(post)
            continue
        number = 2
        while f"{key}-{number}" in taken or f"{key}-{number}" in wanted:
            number += 1
        renamed = f"{post.slug}-{number}"
        taken[renamed.casefold()] = post.path
        duplicates.append(DuplicateSlug(post.slug, post.path, taken[key], renamed))
        result.append(_with_slug(post, renamed))
    return result, duplicates


def _with_slug(post: Post, slug: str) -> Post:
    fields = {**{f: getattr(post, f) for f in post.__dataclass_fields__}, "slug": slug}
    return Post(**fields)


def corpus_digest(posts_dir: Path, posts: Sequence[Post], skipped: Sequence[PostParseError],
                  options: BuildOptions) -> str:
    """One hash over every file's content and the settings: equal hashes, equal builds."""
    digest = hashlib.sha256()
    digest.update(str(posts_dir.resolve()).encode())
    digest.update(json.dumps(_settings(options), sort_keys=True).encode())
    for post in sorted(posts, key=lambda p: p.path):
        digest.update(f"\0{post.path}\0{post.slug}\0{post.content_hash}".encode())
    for error in sorted(skipped, key=lambda e: e.path):
        digest.update(f"\0{error.path}\0{error.reason}".encode())
    return digest.hexdigest()


def _digest_of(build_dir: Path) -> str | None:
    try:
        return read_manifest(build_dir).get("corpus_digest")
    except Exception:  # an unreadable current build is simply rebuilt
        return None


def _write_build(index_dir: Path, indexed: list[Post], drafts: list[Post], result: BuildResult,
                 digest: str, options: BuildOptions, progress: Progress, started: float) -> Path:
    tmp_dir = new_build_dir(index_dir, result.build_id)
    try:
        timings = _write_artifacts(tmp_dir, indexed, options, progress)
        write_manifest(tmp_dir, _manifest(indexed, drafts, result, digest, options, timings,
                                          started))
        verify_build(tmp_dir)
        return publish_build(index_dir, tmp_dir, result.build_id)
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise


def _write_artifacts(out_dir: Path, posts: list[Post], options: BuildOptions,
                     progress: Progress) -> dict[str, float]:
    timings: dict[str, float] = {}
    mark = time.monotonic()
    progress.stage("full text", len(posts))
    build_fulltext(posts, out_dir / FULLTEXT_DIR, on_post=lambda _: progress.advance())
    timings["fulltext"], mark = time.monotonic() - mark, time.monotonic()
    model = fit_tfidf(posts)
    save_tfidf(model, out_dir)
    timings["tfidf"], mark = time.monotonic() - mark, time.monotonic()
    progress.stage("related", len(posts))
    compute_related(posts, model.matrix, options.related, on_rows=progress.advance).save(out_dir)
    save_catalog(posts, out_dir)
    timings["related"] = time.monotonic() - mark
    return {k: round(v, 3) for k, v in timings.items()}


def _manifest(indexed: list[Post], drafts: list[Post], result: BuildResult, digest: str,
              options: BuildOptions, timings: dict[str, float], started: float) -> dict[str, Any]:
    return {
        "build_id": result.build_id,
        "created_at": _utcnow().isoformat().replace("+00:00", "Z"),
        "corpus_digest": digest,
        "counts": {"files": result.files, "indexed": len(indexed), "drafts": len(drafts),
                   "scheduled": result.scheduled, "skipped": len(result.skipped)},
        "posts": {p.path: {"slug": p.slug, "sha256": p.content_hash, "state": "indexed"}
                  for p in indexed} | {p.path: {"slug": p.slug, "sha256": p.content_hash,
                                                "state": "draft"} for p in drafts},
        "scheduled": [{"slug": p.slug, "date": p.date.isoformat()} for p in indexed
                      if p.date and p.date > _utcnow()],
        "skipped": [{"path": e.path, "reason": e.reason} for e in result.skipped],
        "duplicates": [asdict(d) for d in result.duplicates],
        "settings": _settings(options),
        "timings_s": timings | {"total": round(time.monotonic() - started, 3)},
    }


def _settings(options: BuildOptions) -> dict[str, Any]:
    related = asdict(options.related)
    related.pop("block_rows")
    return {"related": related, "fulltext_dir": FULLTEXT_DIR}


def _nothing_reason(posts_dir: Path, files: int, skipped: list[PostParseError],
                    drafts: list[Post]) -> str:
    if files == 0:
        return f"no *.md or *.markdown files under {posts_dir}"
    return (f"no post could be indexed from {posts_dir}: {files} files, "
            f"{len(skipped)} could not be parsed, {len(drafts)} are drafts")


def new_build_id() -> str:
    """A sortable, unique build id: UTC time plus a random suffix."""
    return f"{_utcnow():%Y%m%dT%H%M%S.%f}Z-{uuid.uuid4().hex[:6]}"


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
