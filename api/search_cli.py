"""`postsearch search` and `postsearch related`: the API's answers in a terminal.

They read the published build directly (the same one the server serves, from
POSTSEARCH_INDEX_DIR or `--index`), print a readable table, or with `--json` exactly
the body the HTTP endpoint would answer (without the public `url`).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from index.errors import ServiceError
from search import Searcher, SearchRequest
from search.searcher import SORTS

from .config import from_environment

_index_option = click.option(
    "--index",
    "index_dir",
    type=click.Path(path_type=Path),
    help="Index folder [default: POSTSEARCH_INDEX_DIR or data/build].",
)
_json_option = click.option("--json", "as_json", is_flag=True, help="Print the JSON answer.")


@click.command()
@click.argument("query", nargs=-1)
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--per-page", type=click.IntRange(1, 100), default=10, show_default=True)
@click.option("--category", multiple=True, help="Only this category (repeat for any of several).")
@click.option("--tag", multiple=True, help="Only this tag (repeatable).")
@click.option("--author", multiple=True, help="Only this author (repeatable).")
@click.option("--year", multiple=True, help="Only this year (repeatable).")
@click.option("--sort", type=click.Choice(SORTS), default=SORTS[0], show_default=True)
@_index_option
@_json_option
def search(
    query: Sequence[str],
    page: int,
    per_page: int,
    category: Sequence[str],
    tag: Sequence[str],
    author: Sequence[str],
    year: Sequence[str],
    sort: str,
    index_dir: Path | None,
    as_json: bool,
) -> None:
    """Search the served build and print the hits as a table.

    The query language is the search box's: words, "phrases", -word, category:name.
    With no words, the newest posts are listed.

    Example:

        postsearch search sourdough starter --category cooking --per-page 5
    """
    request = SearchRequest(
        q=" ".join(query),
        page=page,
        per_page=per_page,
        categories=tuple(category),
        tags=tuple(tag),
        authors=tuple(author),
        years=tuple(year),
        sort=sort,
    )
    with _searcher(index_dir) as searcher:
        found = _answer(lambda: searcher.search(request).to_dict())
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False, indent=2))
        return
    shown = f"{found['total']} result{'' if found['total'] == 1 else 's'}"
    pages = max(1, -(-found["total"] // found["per_page"]))
    click.echo(f"{shown} for {found['query']!r}, page {found['page']} of {pages}")
    if found["corrected_query"]:
        click.echo(f"Showing results for {found['corrected_query']!r}")
    if found["suggestion"]:
        click.echo(f"Did you mean {found['suggestion']!r}?")
    first = (found["page"] - 1) * found["per_page"]
    rows = [
        [str(first + n), f"{hit['score']:.2f}", (hit["date"] or "")[:10], hit["title"], hit["slug"]]
        for n, hit in enumerate(found["results"], start=1)
    ]
    if rows:
        click.echo(table(["#", "score", "date", "title", "slug"], rows, right=(0, 1)))


@click.command()
@click.argument("slug")
@click.option("--limit", type=click.IntRange(1, 100), default=5, show_default=True)
@_index_option
@_json_option
def related(slug: str, limit: int, index_dir: Path | None, as_json: bool) -> None:
    """Print a post's related posts with the reason each one is related.

    Example:

        postsearch related neural-network-basics-how-machines-learn --limit 3
    """
    with _searcher(index_dir) as searcher:
        found = _answer(lambda: searcher.related(slug, limit).to_dict())
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False, indent=2))
        return
    if not found["results"]:
        click.echo(f"No related posts for {slug}")
        return
    rows = [[f"{post['score']:.3f}", post["title"], post["reason"]] for post in found["results"]]
    click.echo(table(["score", "title", "why"], rows, right=(0,)))


def table(headers: list[str], rows: list[list[str]], right: tuple[int, ...] = ()) -> str:
    """Align `rows` under `headers`; the widest text column is cut to fit the terminal."""
    cells = [headers, *[[" ".join(str(c).split()) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    room = shutil.get_terminal_size((120, 24)).columns - 2 * (len(headers) - 1)
    while sum(widths) > room and max(widths) > 12:
        widths[widths.index(max(widths))] -= 1
    lines = []
    for row in cells:
        parts = []
        for i, text in enumerate(row):
            text = text if len(text) <= widths[i] else text[: widths[i] - 1] + "…"
            parts.append(text.rjust(widths[i]) if i in right else text.ljust(widths[i]))
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)


def _searcher(index_dir: Path | None) -> Searcher:
    settings = from_environment()
    return Searcher(
        index_dir or Path(settings["INDEX_DIR"]),
        time_limit=float(settings["SEARCH_TIME_LIMIT"]),
        max_results_window=int(settings["MAX_RESULTS_WINDOW"]),
    )


def _answer(call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run a search call; our errors (unknown slug, no build, bad page) exit 1 with why."""
    try:
        return call()
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from None
