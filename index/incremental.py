"""Apply added, modified and deleted posts to the current build without redoing the rest.

Only changed files are parsed and indexed. The Whoosh index is copied and updated in
place of a rebuild; term counts of unchanged posts are reused, so TF-IDF weights are
recomputed exactly as a full build would. Related lists are recomputed for every
changed post, for every post whose list held a changed or deleted post, and for every
post that a changed post now scores above the last entry of its list; other lists are
carried over (their scores used the previous IDF, which drifts slightly: that drift is
bounded by `FULL_REBUILD_SHARE`).
"""

from __future__ import annotations

import datetime as dt
import shutil
import struct
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from .beside import run_beside
from .build import (
    FULL_REBUILD_SHARE,
    FULLTEXT_DIR,
    BuildOptions,
    BuildResult,
    Corpus,
    DuplicateSlug,
    PreviousBuild,
    Progress,
    _timed,
    files_table,
    new_build_id,
    parse_files,
    publish,
)
from .catalog import CarriedCatalog, load_summary, post_record, summary_records
from .changes import Changes
from .errors import NothingToBuild
from .fulltext import update_fulltext
from .lexical import WordCounts, count_words, stack_word_counts, weigh
from .pages import write_post_stores
from .pins import PinTable, resolve_pins
from .posts import Post
from .related import PairScorer, RelatedLists, compute_related
from .store import new_build_dir
from .tfidf import TermCounts, TfidfModel, count_terms, stack_counts, weigh_counts

T = TypeVar("T")


class NeedsFullBuild(Exception):
    """This change cannot be applied incrementally; build from scratch instead."""


def build_incrementally(
    posts_dir: Path,
    index_dir: Path,
    current: Path,
    manifest: dict[str, Any],
    changes: Changes,
    options: BuildOptions,
    progress: Progress,
    now: dt.datetime,
) -> BuildResult:
    """Build a new index from `current` plus `changes`. Raises NeedsFullBuild."""
    previous_files: dict[str, dict[str, Any]] = manifest["files"]
    drift = (
        manifest.get("drift", {}).get("changed_since_full", 0)
        + len(changes.changed)
        + len(changes.deleted)
    )
    if drift > FULL_REBUILD_SHARE * max(1, len(previous_files)):
        raise NeedsFullBuild
    duplicates = [DuplicateSlug(**d) for d in manifest.get("duplicates", [])]
    involved = {d.path for d in duplicates} | {d.kept_by for d in duplicates}
    if involved & set(changes.changed + changes.deleted):
        raise NeedsFullBuild  # renamed slugs depend on the whole corpus's path order
    parsed = parse_files(posts_dir, changes.changed, progress)
    fresh, errors, states = parsed.posts, parsed.skipped, parsed.states
    kept = {name: previous_files[name] for name in changes.unchanged}
    _check_slugs(fresh, kept)
    old_summary = load_summary(current)
    old_records = summary_records(old_summary)
    old_row = {record["path"]: row for row, record in enumerate(old_records)}
    new_posts = [p for p in fresh if not p.draft]
    order = sorted(
        [(name, "old", old_row[name]) for name, e in kept.items() if e["state"] == "indexed"]
        + [(p.path, "new", i) for i, p in enumerate(new_posts)]
    )
    if not order:
        raise NothingToBuild(f"no post left to index in {posts_dir}")
    records = [
        old_records[i] if kind == "old" else post_record(new_posts[i]) for _, kind, i in order
    ]
    files = {**kept, **files_table(fresh, errors, states)}
    corpus = Corpus(
        records=records,
        files=dict(sorted(files.items())),
        skipped=errors,
        duplicates=duplicates,
        previous=PreviousBuild(
            manifest.get("artifacts", {}),
            CarriedCatalog(
                current, old_summary, [i if kind == "old" else None for _, kind, i in order]
            ),
        ),
    )
    removed = [
        previous_files[name]["slug"]
        for name in changes.modified + changes.deleted
        if previous_files[name]["state"] == "indexed"
    ]
    build_id = new_build_id()
    tmp_dir = new_build_dir(index_dir, build_id)
    try:
        timings: dict[str, float] = {}
        with ExitStack() as stack:
            # The ranking matrix, the full-text index and the post stores need nothing
            # the TF-IDF and related steps make: with two cores they are written in a
            # process of their own beside them.
            beside = run_beside(
                stack,
                len(order),
                _write_beside,
                current,
                order,
                new_posts,
                removed,
                options,
                tmp_dir,
            )
            with _timed(timings, "tfidf"):
                table = _stack_counts(current, order, new_posts)
                model = weigh_counts(table)
            # Written while the related lists are computed (file writes release the GIL).
            saving = stack.enter_context(ThreadPoolExecutor(max_workers=1)).submit(
                _save_tfidf, table, model, tmp_dir
            )
            with _timed(timings, "related"):
                touched = set(removed) | {p.slug for p in new_posts}
                lists, pins = _update_related(
                    current, old_records, records, model.matrix, touched, options
                )
                lists.save(tmp_dir)
            saving.result()
            timings |= beside.result()  # their own times, overlapping the others
        extra = {
            "mode": "incremental",
            "unresolved_pins": pins.unresolved,
            "based_on": manifest["build_id"],
            "drift": {"changed_since_full": drift},
            "changes": {
                "added": len(changes.added),
                "modified": len(changes.modified),
                "deleted": len(changes.deleted),
            },
        }
        return publish(
            index_dir, tmp_dir, build_id, corpus, posts_dir, options, now, timings, extra
        )
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise


def _write_beside(
    current: Path,
    order: list[tuple[str, str, int]],
    new_posts: list[Post],
    removed: list[str],
    options: BuildOptions,
    out_dir: Path,
) -> dict[str, float]:
    """Write the word counts and BM25F matrix, the full-text index and the post stores
    of the new build; returns each step's seconds."""
    timings: dict[str, float] = {}
    with _timed(timings, "ranking"):
        counts = _stack_word_counts(current, order, new_posts)
        counts.save(out_dir)
        weigh(counts, options.ranking).save(out_dir)
        del counts
    with _timed(timings, "fulltext"):
        shutil.copytree(current / FULLTEXT_DIR, out_dir / FULLTEXT_DIR)
        update_fulltext(out_dir / FULLTEXT_DIR, removed, new_posts)
    with _timed(timings, "pages"):
        sources = [i if kind == "old" else new_posts[i] for _, kind, i in order]
        write_post_stores(out_dir, sources, current)
    return timings


def _save_tfidf(table: TermCounts, model: TfidfModel, out_dir: Path) -> None:
    table.save(out_dir)
    model.save(out_dir)


def _check_slugs(fresh: list[Post], kept: dict[str, dict[str, Any]]) -> None:
    """Slug clashes are resolved by path order over the whole corpus: leave them to a full build."""
    taken = {entry["slug"].casefold() for entry in kept.values() if "slug" in entry}
    for post in fresh:
        key = post.slug.casefold()
        if key in taken:
            raise NeedsFullBuild
        taken.add(key)


def _stack_counts(
    current: Path, order: list[tuple[str, str, int]], new_posts: list[Post]
) -> TermCounts:
    """Term counts in catalog order: reused rows for old posts, fresh counts for new ones."""
    old_table = _previous_counts(TermCounts.load, current)
    stop_words = old_table.stop_words  # as the rows it joins were counted
    new_table = (
        count_terms(new_posts, stop_words)
        if new_posts
        else TermCounts(old_table.counts[:0], [], stop_words)
    )
    return stack_counts([old_table, new_table], _parts_order(order))


def _stack_word_counts(
    current: Path, order: list[tuple[str, str, int]], new_posts: list[Post]
) -> WordCounts:
    """Word counts in catalog order: reused rows for old posts, fresh counts for new ones."""
    old = _previous_counts(WordCounts.load, current)
    return stack_word_counts([old, count_words(new_posts)], _parts_order(order))


def _previous_counts(load: Callable[[Path], T], current: Path) -> T:
    """A count table of the current build, or NeedsFullBuild when it cannot be read:
    a damaged file of the right size passes the size check that allowed an incremental
    build, and a reindex from cron must rebuild rather than fail until someone runs
    `--full`."""
    try:
        return load(current)
    except (OSError, ValueError, KeyError, EOFError, struct.error, zipfile.BadZipFile) as exc:
        raise NeedsFullBuild(f"the current build's count tables cannot be read: {exc}") from exc


def _parts_order(order: list[tuple[str, str, int]]) -> list[tuple[int, int]]:
    """The catalog order as (table, row) pairs: table 0 is the old one, 1 the new posts'."""
    return [(0 if kind == "old" else 1, i) for _, kind, i in order]


def _update_related(
    current: Path,
    old_records: list[dict[str, Any]],
    records: list[dict[str, Any]],
    matrix,
    touched: set[str],
    options: BuildOptions,
) -> tuple[RelatedLists, PinTable]:
    """Recompute the lists a change can affect; carry the others over.

    A list is affected when its post changed, when it held a changed or deleted post,
    when a changed post now scores above its last entry, or when its pins or excludes
    resolve differently (a pinned post was added, renamed or deleted).
    """
    old = RelatedLists.load(current)
    pins = resolve_pins(records)
    old_pins = resolve_pins(old_records)
    row_of = {record["slug"]: row for row, record in enumerate(records)}
    old_row_of = {record["slug"]: row for row, record in enumerate(old_records)}
    scorer = PairScorer(records, matrix, options.related)
    scorer.search_candidates_when_large()  # before `incoming`: score as the lists do
    k = min(options.related.neighbours, max(0, len(records) - 1))
    width = k + pins.width
    affected = {row_of[slug] for slug in touched if slug in row_of}
    carried: dict[int, int] = {}
    old_neighbours = np.array(old.neighbours)  # in memory: read element by element below
    touched_before = [old_row_of[slug] for slug in touched if slug in old_row_of]
    holds_touched = np.isin(old_neighbours, touched_before).any(axis=1)
    for row, record in enumerate(records):
        before = old_row_of.get(record["slug"])
        if row in affected or before is None or old_neighbours.shape[1] != width:
            affected.add(row)
            continue
        if holds_touched[before] or not _same_pins(
            pins, row, records, old_pins, before, old_records
        ):
            affected.add(row)
        else:
            carried[row] = before
    changed_rows = sorted(row_of[s] for s in touched if s in row_of)
    if changed_rows and carried:
        best_from_changed = scorer.incoming(changed_rows).max(axis=0)
        rows = np.fromiter(carried, dtype=np.int64, count=len(carried))
        befores = np.fromiter(carried.values(), dtype=np.int64, count=len(carried))
        for row in rows[best_from_changed[rows] > _floors(old, befores, k)].tolist():
            affected.add(row)
            del carried[row]
    fresh_rows = sorted(affected)
    fresh = compute_related(
        records, matrix, options.related, rows=fresh_rows, scorer=scorer, pins=pins
    )
    out = RelatedLists.empty(len(records), width)
    out.copy_rows(np.array(fresh_rows, dtype=np.int64), fresh, np.arange(len(fresh_rows)))
    new_row_of_old = np.array(
        [row_of.get(record["slug"], -1) for record in old_records] + [-1], dtype=np.int32
    )  # the extra -1 is where empty entries (-1) look
    if carried:
        rows, befores = np.array(list(carried)), np.array(list(carried.values()))
        out.copy_rows(rows, old, befores)
        out.neighbours[rows] = new_row_of_old[old_neighbours[befores]]
    return out, pins


def _same_pins(
    pins: PinTable,
    row: int,
    records: list[dict[str, Any]],
    old_pins: PinTable,
    before: int,
    old_records: list[dict[str, Any]],
) -> bool:
    """Whether a post's pins and excludes name the same posts as before (most posts
    have none on either side: that is checked first, without building slug lists for
    each of 57k rows)."""
    if not (
        pins.pins[row] or pins.excludes[row] or old_pins.pins[before] or old_pins.excludes[before]
    ):
        return True
    return _pin_slugs(pins, row, records) == _pin_slugs(old_pins, before, old_records)


def _pin_slugs(table: PinTable, row: int, records: list[dict[str, Any]]) -> tuple:
    return (
        [records[j]["slug"] for j in table.pins[row]],
        sorted(records[j]["slug"] for j in table.excludes[row]),
    )


def _floors(lists: RelatedLists, rows: np.ndarray, k: int) -> np.ndarray:
    """The score a newcomer must beat to enter each carried list (-inf where it is not
    full)."""
    entries = (lists.neighbours[rows] >= 0).sum(axis=1)
    floors = np.asarray(lists.score[rows, np.maximum(entries - 1, 0)], dtype=np.float64)
    open_lists = (entries - np.asarray(lists.pinned[rows], dtype=np.int64) < k) | (k == 0)
    floors[open_lists] = -np.inf
    return floors
