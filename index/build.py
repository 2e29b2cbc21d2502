"""Build the index (full text, term counts, TF-IDF, related lists, catalog) and publish it.

Every build goes to a fresh private directory; only when all artifacts and the
manifest are written and checked does `current` switch to it, so a failed or killed
reindex leaves the served build untouched.

A reindex is incremental when it can be: only added and modified files are parsed
and indexed, and the rest is carried over from the current build (see
`incremental.py`). It is full on `--full`, on the first build, when settings or the
posts folder changed, when slugs would collide, and when posts changed since the last
full build exceed `FULL_REBUILD_SHARE` of the corpus (bounding score drift).
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import shutil
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from .beside import run_beside
from .bodies import body_counts
from .catalog import CarriedCatalog, alias_conflicts, post_record, save_catalog
from .changes import FileState, detect_changes
from .errors import NothingToBuild, PostParseError, PostsSkipped
from .facet_values import write_facets
from .fulltext import build_fulltext, fulltext_documents
from .lexical import (
    WORD_COUNTS_FILE,
    WORD_VOCAB_FILE,
    RankingSettings,
    WordCounts,
    count_words,
    stack_word_counts,
    weigh,
)
from .manifest import verify_build, write_manifest
from .memory import rare_collections, release_free_memory
from .pages import PostStores
from .pins import resolve_pins
from .posts import Post, parse_post, post_file_entries
from .related import RelatedSettings, compute_related
from .store import (
    current_build_dir,
    new_build_dir,
    prune_builds,
    publish_build,
    remove_abandoned,
    writer_lock,
)
from .tfidf import (
    COUNTS_FILE,
    TERMS_FILE,
    TermCounts,
    count_terms,
    english_stop_words,
    stack_counts,
    weigh_counts,
)

FULLTEXT_DIR = "fulltext"
# Share of the corpus that may change through incremental builds before the next
# build is full: related lists that no change touched keep scores computed with the
# older IDF, and Whoosh keeps counting deleted documents until segments merge.
FULL_REBUILD_SHARE = 0.10
# From this many files to parse, posts are parsed in one process per core.
PARALLEL_PARSE_FROM = 500
# Count tables only the next incremental build reads: a worker opening a build checks
# their size, not their digest (536 MB less to hash per worker at 57k posts).
BUILDER_FILES = frozenset({WORD_COUNTS_FILE, WORD_VOCAB_FILE, COUNTS_FILE, TERMS_FILE})


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
    strict: bool = False  # refuse to publish when any post file was skipped
    wait_seconds: float = 0.0
    keep_builds: int = 3
    grace_seconds: float = 60.0
    related: RelatedSettings = field(default_factory=RelatedSettings)
    ranking: RankingSettings = field(default_factory=RankingSettings)


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
    mode: str  # "full", "incremental" or "unchanged"
    files: int = 0
    indexed: int = 0
    drafts: int = 0
    scheduled: int = 0
    skipped: list[PostParseError] = field(default_factory=list)
    duplicates: list[DuplicateSlug] = field(default_factory=list)
    added: int = 0
    modified: int = 0
    deleted: int = 0
    seconds: float = 0.0
    recovered_lock_of: int | None = None  # pid of a reindex that died holding the lock
    removed_abandoned: list[str] = field(default_factory=list)  # its half-written builds
    alias_conflicts: list[dict[str, str]] = field(default_factory=list)
    unresolved_pins: list[dict[str, str]] = field(default_factory=list)  # related: references

    @property
    def changed(self) -> bool:
        """True when a new build was published."""
        return self.mode != "unchanged"


@dataclass
class Corpus:
    """Everything a build writes, whichever way it was assembled."""

    records: list[dict[str, Any]]  # catalog records of the indexed posts, in path order
    files: dict[str, dict[str, Any]]  # manifest `files` table: state, slug, stat, hash
    skipped: list[PostParseError]
    duplicates: list[DuplicateSlug] = field(default_factory=list)
    previous: PreviousBuild | None = None  # what an incremental build started from


@dataclass
class PreviousBuild:
    """The build an incremental build starts from: the files they share are neither
    written nor hashed again (builds never change once published)."""

    artifacts: dict[str, dict[str, Any]]  # its manifest's artifact table
    catalog: CarriedCatalog  # its directory, summary and the new records' rows there


def build(
    posts_dir: Path,
    index_dir: Path,
    options: BuildOptions | None = None,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
) -> BuildResult:
    """Bring the index under `index_dir` up to date with `posts_dir` and publish it.

    Raises NothingToBuild when no post can be indexed, ReindexLocked when another
    reindex runs; the current build is untouched on any error.
    """
    from .incremental import NeedsFullBuild, build_incrementally

    options = options or BuildOptions()
    progress = progress or _Silent()
    now = now or _utcnow()
    started = time.monotonic()
    with writer_lock(index_dir, options.wait_seconds) as lock, rare_collections():
        abandoned = remove_abandoned(index_dir)
        if not posts_dir.is_dir():
            raise NothingToBuild(f"posts folder {posts_dir} does not exist")
        current = current_build_dir(index_dir)
        previous = None if options.full else _reusable_manifest(current, posts_dir, options)
        result = None
        if previous is not None and current is not None:
            changes = detect_changes(posts_dir, previous["files"])
            if changes.is_empty:
                result = _unchanged(current, previous, now)
            else:
                try:
                    result = build_incrementally(
                        posts_dir, index_dir, current, previous, changes, options, progress, now
                    )
                except NeedsFullBuild:
                    result = None
        if result is None:
            result = _build_full(posts_dir, index_dir, options, progress, now)
        prune_builds(index_dir, options.keep_builds, options.grace_seconds)
    result.recovered_lock_of = lock.stale_pid
    result.removed_abandoned = [p.name for p in abandoned]
    result.seconds = time.monotonic() - started
    return result


def _reusable_manifest(
    current: Path | None, posts_dir: Path, options: BuildOptions
) -> dict[str, Any] | None:
    """The current build's manifest if it was made from this folder with these settings."""
    if current is None:
        return None
    try:
        # Sizes only: an incremental build reads the count tables, which workers do
        # not hash (BUILDER_FILES); a missing or cut file means a full build.
        manifest = verify_build(current, hashes=False)
    except Exception:  # an unreadable or incomplete current build is simply rebuilt
        return None
    same_source = manifest.get("posts_dir") == str(posts_dir.resolve())
    same_settings = manifest.get("settings") == settings_of(options)
    return manifest if same_source and same_settings and "files" in manifest else None


def _unchanged(current: Path, manifest: dict[str, Any], now: dt.datetime) -> BuildResult:
    counts = manifest["counts"]
    skipped = [
        PostParseError(path, entry.get("reason", ""))
        for path, entry in manifest["files"].items()
        if entry["state"] == "skipped"
    ]
    return BuildResult(
        build_id=current.name,
        build_dir=current,
        mode="unchanged",
        files=counts["files"],
        indexed=counts["indexed"],
        drafts=counts["drafts"],
        scheduled=_scheduled_count(manifest, now),
        skipped=skipped,
        unresolved_pins=manifest.get("unresolved_pins", []),
    )


def _build_full(
    posts_dir: Path, index_dir: Path, options: BuildOptions, progress: Progress, now: dt.datetime
) -> BuildResult:
    names = [name for name, _ in post_file_entries(posts_dir)]
    build_id = new_build_id()
    tmp_dir = new_build_dir(index_dir, build_id)
    try:
        timings: dict[str, float] = {}
        with _timed(timings, "parse"):
            # Bodies go to the page and text stores as they are parsed: at 57k posts
            # they are about 1 GB, and nothing after this step needs the HTML.
            stores = PostStores(tmp_dir)
            try:
                parsed = parse_files(posts_dir, names, progress, count=True, sink=stores.add)
            finally:
                stores.close()
        skipped, states = parsed.skipped, parsed.states
        posts, duplicates = resolve_duplicate_slugs(parsed.posts)  # keeps the path order
        parsed.posts = []
        indexed = [p for p in posts if not p.draft]
        if not indexed:
            drafts = len(posts) - len(indexed)
            raise NothingToBuild(_nothing_reason(posts_dir, len(names), skipped, drafts))
        corpus = Corpus(
            records=[post_record(p) for p in indexed],
            files=files_table(posts, skipped, states),
            skipped=skipped,
            duplicates=duplicates,
        )
        del posts
        documents = fulltext_documents(indexed)
        del indexed  # the last use of the body texts
        with ExitStack() as stack:
            # The full-text index needs nothing the other steps make: with two cores,
            # Whoosh writes it in a process of its own while the matrices are weighed
            # (one core was idle then) and the related lists computed.
            fulltext = run_beside(
                stack, len(documents), build_fulltext, documents, tmp_dir / FULLTEXT_DIR
            )
            del documents
            if fulltext.done():  # written here (a small corpus): a failure stops the build now
                fulltext.result()
            with _timed(timings, "ranking"):
                counts = stack_word_counts(parsed.word_tables, parsed.counted)
                parsed.word_tables = []
                release_free_memory()  # the chunks' small arrays, before BM25F is built
                counts.save(tmp_dir)
                weigh(counts, options.ranking).save(tmp_dir)
                del counts
            with _timed(timings, "tfidf"):
                table = stack_counts(parsed.term_tables, parsed.counted)
                parsed.term_tables = []
                release_free_memory()
                model = weigh_counts(table)
                table.save(tmp_dir)
                del table
                model.save(tmp_dir)
            with _timed(timings, "related"):
                progress.stage("related", len(corpus.records))
                pins = resolve_pins(corpus.records)
                compute_related(
                    corpus.records, model.matrix, options.related, progress.advance, pins=pins
                ).save(tmp_dir)
            progress.stage("full text", len(corpus.records))
            timings["fulltext"] = fulltext.result()  # its own time, overlapping the others
            progress.advance(len(corpus.records))
        extra = {
            "mode": "full",
            "drift": {"changed_since_full": 0},
            "unresolved_pins": pins.unresolved,
        }
        return publish(
            index_dir, tmp_dir, build_id, corpus, posts_dir, options, now, timings, extra
        )
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise


@dataclass
class Parsed:
    """Posts parsed from files; with counting, each chunk's word and term counts, and
    the (chunk, row) of every indexed, non-draft post in order, ready to stack."""

    posts: list[Post]
    skipped: list[PostParseError]
    states: dict[str, FileState]
    word_tables: list[WordCounts] = field(default_factory=list)
    term_tables: list[TermCounts] = field(default_factory=list)
    counted: list[tuple[int, int]] = field(default_factory=list)


def parse_files(
    posts_dir: Path,
    names: Sequence[str],
    progress: Progress,
    count: bool = False,
    sink: Callable[[Post], None] | None = None,
) -> Parsed:
    """Parse the named files; broken ones become errors. Each file is read once.

    From PARALLEL_PARSE_FROM files on, one process per core parses (Markdown, YAML
    and language detection are pure Python: ~2.5 ms a post on one core), in chunks;
    with `count`, each chunk also counts its posts' words (ranking) and terms
    (TF-IDF) there, so a full build tokenises on every core. Results come back in
    the order of `names`, so the build is the same either way. With a `sink`, every
    indexed post is handed to it in that order and kept without its body HTML.
    """
    progress.stage("parse", len(names))
    if count:
        english_stop_words()  # scikit-learn imported once here, not in every parse worker
    cores = min(4, os.cpu_count() or 1)
    parallel = cores > 1 and len(names) >= PARALLEL_PARSE_FROM
    size = max(32, min(256, -(-len(names) // (cores * 8)))) if parallel else max(1, len(names))
    jobs = [(posts_dir, names[i : i + size], count) for i in range(0, len(names), size)]
    parsed = Parsed([], [], {})
    with ExitStack() as stack:
        if parallel:
            # Forked workers close their copy of the reindex lock (see store.writer_lock).
            # A fork server or spawn would re-run an unguarded calling script.
            context = multiprocessing.get_context("fork")
            pool = stack.enter_context(ProcessPoolExecutor(max_workers=cores, mp_context=context))
            chunks = pool.map(_parse_chunk, jobs)
        else:
            chunks = map(_parse_chunk, jobs)
        for results, words, terms in chunks:
            chunk = len(parsed.word_tables)
            chunk_posts = 0  # the row of the chunk's counts the next post has
            for name, post, error, state in results:
                if post is not None:
                    if not post.draft:
                        parsed.counted.append((chunk, chunk_posts))
                        if sink is not None:
                            sink(post)
                    chunk_posts += 1
                    parsed.posts.append(replace(post, body_html="") if sink else post)
                elif error is not None:
                    parsed.skipped.append(PostParseError(*error))
                if state is not None:
                    parsed.states[name] = state
            if words is not None and terms is not None:
                parsed.word_tables.append(words)
                parsed.term_tables.append(terms)
            progress.advance(len(results))
    return parsed


def _parse_chunk(
    job: tuple[Path, Sequence[str], bool],
) -> tuple[list[tuple], WordCounts | None, TermCounts | None]:
    """Parse a run of files (and count their posts' words and terms when asked)."""
    posts_dir, names, count = job
    results = [_parse_one(posts_dir, name) for name in names]
    if not count:
        return results, None, None
    posts = [post for _, post, _, _ in results if post is not None]
    bodies = [body_counts(post.body_text) for post in posts]  # each body split once
    words = count_words(posts, [body.words if body else None for body in bodies])
    terms = count_terms(posts, body_terms=[body.terms if body else None for body in bodies])
    return results, words, terms


def _parse_one(
    posts_dir: Path, name: str
) -> tuple[str, Post | None, tuple[str, str] | None, FileState | None]:
    """(name, post or None, (path, reason) when broken, file state) of one file.

    Errors travel as plain tuples: exceptions do not survive the trip between processes.
    """
    path = posts_dir / name
    try:
        post = parse_post(path, posts_dir)
    except PostParseError as error:
        try:
            state = FileState.of(path)
        except OSError:
            state = None
        return name, None, (error.path, error.reason), state
    stat = path.stat()
    return name, post, None, FileState(stat.st_size, stat.st_mtime_ns, post.content_hash)


def files_table(
    posts: Sequence[Post], skipped: Sequence[PostParseError], states: dict[str, FileState]
) -> dict[str, dict[str, Any]]:
    """The manifest's per-file table: state, slug, size, mtime and SHA-256."""
    table: dict[str, dict[str, Any]] = {}
    for post in posts:
        table[post.path] = {
            "state": "draft" if post.draft else "indexed",
            "slug": post.slug,
            **asdict(states[post.path]),
        }
    for error in skipped:
        if error.path in states:
            table[error.path] = {
                "state": "skipped",
                "reason": error.reason,
                **asdict(states[error.path]),
            }
    return dict(sorted(table.items()))


def publish(
    index_dir: Path,
    tmp_dir: Path,
    build_id: str,
    corpus: Corpus,
    posts_dir: Path,
    options: BuildOptions,
    now: dt.datetime,
    timings: dict[str, float],
    extra: dict[str, Any],
) -> BuildResult:
    """Write the catalog and manifest, check the build, and make it current.

    Raises PostsSkipped (before anything is published) in strict mode.
    """
    skipped = [path for path, entry in corpus.files.items() if entry["state"] == "skipped"]
    if options.strict and skipped:
        raise PostsSkipped(
            f"{len(skipped)} post file(s) could not be parsed "
            f"({', '.join(skipped[:3])}); nothing was published (--strict)"
        )
    previous = corpus.previous
    summary = save_catalog(corpus.records, tmp_dir, None if previous is None else previous.catalog)
    before = None if previous is None else (previous.catalog.build_dir, previous.catalog.summary)
    write_facets(tmp_dir, summary, before)
    del summary
    files = corpus.files
    states = [entry["state"] for entry in files.values()]
    manifest = {
        "build_id": build_id,
        "created_at": _iso(_utcnow()),
        "posts_dir": str(posts_dir.resolve()),
        "counts": {
            "files": len(files),
            "indexed": states.count("indexed"),
            "drafts": states.count("draft"),
            "skipped": states.count("skipped"),
        },
        "files": files,
        "scheduled": [
            {"slug": r["slug"], "date": r["date"]}
            for r in corpus.records
            if r["date"] and _after(r["date"], now)
        ],
        "duplicates": [asdict(d) for d in corpus.duplicates],
        "alias_conflicts": alias_conflicts(corpus.records),
        "settings": settings_of(options),
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
        **extra,
    }
    shared = None if previous is None else (previous.catalog.build_dir, previous.artifacts)
    write_manifest(tmp_dir, manifest, shared_with=shared)
    verify_build(tmp_dir, hashes=False)  # write_manifest has just hashed every file
    final = publish_build(index_dir, tmp_dir, build_id)
    return BuildResult(
        build_id=build_id,
        build_dir=final,
        mode=extra["mode"],
        files=len(files),
        indexed=manifest["counts"]["indexed"],
        drafts=manifest["counts"]["drafts"],
        scheduled=len(manifest["scheduled"]),
        skipped=[
            PostParseError(path, e["reason"])
            for path, e in files.items()
            if e["state"] == "skipped"
        ],
        duplicates=corpus.duplicates,
        alias_conflicts=manifest["alias_conflicts"],
        unresolved_pins=extra.get("unresolved_pins", []),
        **extra.get("changes", {}),
    )


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


def settings_of(options: BuildOptions) -> dict[str, Any]:
    """The settings that shape a build's output (a change forces a full build)."""
    related = asdict(options.related)
    related.pop("block_rows")
    return {
        "related": related,
        "ranking": options.ranking.as_dict(),
        "fulltext_dir": FULLTEXT_DIR,
        # 9: catalog, bodies and pages in stores (JSON lines); no bodies in Whoosh.
        # 10: a summary of every post, column by column, for workers.
        # 11: stores layered over the previous build's (workers before it cannot read
        # them, so the first reindex after an upgrade is a full build), summary pins.
        "format": 11,
    }


def _scheduled_count(manifest: dict[str, Any], now: dt.datetime) -> int:
    return sum(1 for item in manifest.get("scheduled", []) if _after(item["date"], now))


def _after(iso_date: str, now: dt.datetime) -> bool:
    return dt.datetime.fromisoformat(iso_date) > now


def _nothing_reason(posts_dir: Path, files: int, skipped: list[PostParseError], drafts: int) -> str:
    if files == 0:
        return f"no *.md or *.markdown files under {posts_dir}"
    return (
        f"no post could be indexed from {posts_dir}: {files} files, "
        f"{len(skipped)} could not be parsed, {drafts} are drafts"
    )


class _timed:
    """Context manager adding the elapsed seconds of a block to `timings[name]`."""

    def __init__(self, timings: dict[str, float], name: str) -> None:
        self.timings, self.name = timings, name

    def __enter__(self) -> None:
        self.started = time.monotonic()

    def __exit__(self, *exc_info: object) -> None:
        self.timings[self.name] = time.monotonic() - self.started


def new_build_id() -> str:
    """A sortable, unique build id: UTC time to the microsecond plus a random suffix."""
    return f"{_utcnow():%Y%m%dT%H%M%S.%f}Z-{uuid.uuid4().hex[:6]}"


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
