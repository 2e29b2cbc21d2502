"""The `postsearch` command: `postsearch reindex` builds and publishes the index.

Exit codes: 0 built (or nothing changed), 1 nothing could be built (the current
build is untouched), 2 usage error, 3 another reindex holds the lock.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
import scipy.sparse as sp

from index import BuildOptions, NothingToBuild, PostsSkipped, ReindexLocked, build
from index.build import BuildResult
from index.catalog import load_catalog
from index.duplicates import DEFAULT_THRESHOLD, find_near_duplicates
from index.errors import NoBuildToRollBackTo
from index.store import current_build_dir, rollback_build, writer_lock
from index.tfidf import MATRIX_FILE

from . import search_cli
from .config import check_settings, from_environment
from .report_cli import report

EXIT_NOTHING_BUILT = 1
EXIT_LOCKED = 3


class _Bars:
    """Draws one click progress bar per build stage, only on a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._bar: Any = None

    def stage(self, name: str, total: int) -> None:
        self.close()
        if self.enabled and total:
            self._bar = click.progressbar(length=total, label=f"{name:<10}", file=sys.stderr)
            self._bar.__enter__()

    def advance(self, count: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(count)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


# Options shared by the commands that write to the index folder.
_index_option = click.option(
    "--index",
    "index_dir",
    type=click.Path(path_type=Path),
    help="Index folder [default: POSTSEARCH_INDEX_DIR or data/build].",
)
_wait_option = click.option(
    "--wait",
    "wait_seconds",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Seconds to wait for another running reindex.",
)


@click.group()
@click.version_option(package_name="postsearch")
def main() -> None:
    """Full-text search and related articles for a folder of Markdown posts.

    Example:

        postsearch reindex --posts data/posts && postsearch search sourdough
    """


@main.command()
@click.option(
    "--posts",
    "posts_dir",
    type=click.Path(path_type=Path),
    help="Folder of posts [default: POSTSEARCH_POSTS_DIR or data/posts].",
)
@_index_option
@click.option("--full", is_flag=True, help="Rebuild even when no post changed.")
@_wait_option
@click.option("--strict", is_flag=True, help="Fail (exit 1) when any post cannot be parsed.")
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Show progress bars [default: when stderr is a terminal].",
)
def reindex(
    posts_dir: Path | None,
    index_dir: Path | None,
    full: bool,
    wait_seconds: float,
    strict: bool,
    progress: bool | None,
) -> None:
    """Parse every post, build a new index and publish it atomically.

    Example:

        postsearch reindex --posts data/posts --index data/build
    """
    settings = _settings()
    posts_dir = posts_dir or Path(settings["POSTS_DIR"])
    index_dir = index_dir or Path(settings["INDEX_DIR"])
    bars = _Bars(sys.stderr.isatty() if progress is None else progress)
    options = BuildOptions(
        full=full,
        strict=strict,
        wait_seconds=wait_seconds,
        keep_builds=int(settings["KEEP_BUILDS"]),
        grace_seconds=float(settings["BUILD_GRACE_SECONDS"]),
    )
    try:
        result = build(posts_dir, index_dir, options, progress=bars)
    except ReindexLocked as exc:
        bars.close()
        click.echo(f"Error: {exc}", err=True)
        sys.exit(EXIT_LOCKED)
    except (NothingToBuild, PostsSkipped) as exc:
        bars.close()
        click.echo(f"Error: {exc}; the current index is unchanged", err=True)
        sys.exit(EXIT_NOTHING_BUILT)
    except OSError as exc:  # disk full, permissions, ...: the half build was removed
        bars.close()
        click.echo(
            f"Error: cannot write the index in {index_dir}: {exc}; the current index is unchanged",
            err=True,
        )
        sys.exit(EXIT_NOTHING_BUILT)
    finally:
        bars.close()
    _report(result, index_dir)
    if strict and result.skipped:
        click.echo(
            f"Error: --strict and {len(result.skipped)} post(s) could not be parsed; "
            "the current index is unchanged",
            err=True,
        )
        sys.exit(EXIT_NOTHING_BUILT)


@main.command()
@_index_option
@_wait_option
def rollback(index_dir: Path | None, wait_seconds: float) -> None:
    """Serve the previous complete build again (workers switch on their next request).

    The next reindex compares the posts with the build rolled back to, so fix or
    revert the posts first.

    Example:

        postsearch rollback --index data/build
    """
    index_dir = index_dir or Path(_settings()["INDEX_DIR"])
    try:
        with writer_lock(index_dir, wait_seconds):
            before, after = rollback_build(index_dir)
    except ReindexLocked as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(EXIT_LOCKED)
    except NoBuildToRollBackTo as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(EXIT_NOTHING_BUILT)
    click.echo(f"Rolled back from {before.name} to {after.name} in {index_dir}")


def _settings() -> dict:
    try:
        settings = from_environment()
        check_settings(settings)
    except ValueError as exc:
        raise click.UsageError(f"bad configuration: {exc}") from None
    return settings


def _report(result: BuildResult, index_dir: Path) -> None:
    if result.recovered_lock_of:
        click.echo(
            f"recovered the lock of an earlier reindex (pid {result.recovered_lock_of}) "
            "that stopped without releasing it",
            err=True,
        )
    for name in result.removed_abandoned:
        click.echo(f"removed the unfinished build {name} it left behind", err=True)
    for error in result.skipped:
        click.echo(f"skipped {error.path}: {error.reason}", err=True)
    for dup in result.duplicates:
        click.echo(
            f"duplicate slug {dup.slug!r}: {dup.path} renamed to {dup.renamed_to!r} "
            f"({dup.kept_by} keeps it)",
            err=True,
        )
    for conflict in result.alias_conflicts:
        click.echo(
            f"alias {conflict['alias']!r} of {conflict['slug']!r} is ignored: it already "
            f"names {conflict['kept_by']!r}",
            err=True,
        )
    for pin in result.unresolved_pins:
        click.echo(
            f"{pin['field']} {pin['pin']!r} in {pin['path']} is ignored: {pin['reason']}",
            err=True,
        )
    # A rate only where every file was read: an incremental or unchanged run reads few.
    rate = (
        f" ({result.files / result.seconds:.0f} posts/s)"
        if result.mode == "full" and result.seconds
        else ""
    )
    if result.mode == "incremental":
        head = (
            f"Built {result.build_id} in {index_dir} incrementally ({result.added} added, "
            f"{result.modified} modified, {result.deleted} deleted)"
        )
    elif result.changed:
        head = f"Built {result.build_id} in {index_dir}"
    else:
        head = f"Nothing changed since build {result.build_id}; nothing rewritten"
    click.echo(
        f"{head}: {result.indexed} posts indexed ({result.scheduled} scheduled), "
        f"{result.drafts} hidden as drafts, {len(result.skipped)} skipped, "
        f"{len(result.duplicates)} duplicate slugs renamed; {result.files} files in "
        f"{result.seconds:.1f}s{rate}"
    )


main.add_command(report)


@main.command()
@_index_option
@click.option(
    "--threshold",
    type=click.FloatRange(min=0, max=1, min_open=True),
    default=DEFAULT_THRESHOLD,
    show_default=True,
    help="TF-IDF cosine from which two posts count as near-duplicates.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per pair.")
def duplicates(index_dir: Path | None, threshold: float, as_json: bool) -> None:
    """List pairs of near-duplicate posts of the current build, most similar first.

    Merge them or redirect one to the other; related lists never show both.

    Example:

        postsearch duplicates --index data/build --threshold 0.8
    """
    index_dir = index_dir or Path(_settings()["INDEX_DIR"])
    build_dir = current_build_dir(index_dir)
    if build_dir is None:
        click.echo(f"Error: no build in {index_dir}; run postsearch reindex first", err=True)
        sys.exit(EXIT_NOTHING_BUILT)
    records = load_catalog(build_dir)
    pairs = find_near_duplicates(sp.load_npz(build_dir / MATRIX_FILE), threshold)
    for pair in pairs:
        first, second = records[pair.first], records[pair.second]
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "similarity": round(pair.similarity, 4),
                        "posts": [
                            {"slug": r["slug"], "path": r["path"], "title": r["title"]}
                            for r in (first, second)
                        ],
                    },
                    ensure_ascii=False,
                )
            )
        else:
            click.echo(
                f"{pair.similarity:.3f}  {first['slug']} ({first['path']})  "
                f"{second['slug']} ({second['path']})"
            )
    if not as_json:
        click.echo(
            f"{len(pairs)} pair(s) of near-duplicates at >= {threshold} among "
            f"{len(records)} posts of build {build_dir.name}",
            err=True,
        )


main.add_command(search_cli.search)
main.add_command(search_cli.related)
