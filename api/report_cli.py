"""`postsearch report ...`: what readers searched for and did not find."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict
from pathlib import Path

import click

from .config import check_settings, from_environment, zero_results_path
from .zero_results import read_report


@click.group()
def report() -> None:
    """Reports built from the service's logs.

    Example:

        postsearch report zero-results --days 30
    """


@report.command("zero-results")
@click.option(
    "--log",
    "log_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Zero-result log [default: POSTSEARCH_ZERO_RESULTS_LOG or INDEX_DIR/zero-results.jsonl].",
)
@click.option("--days", type=click.IntRange(min=1), help="Only the last N days.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def zero_results(log_path: Path | None, days: int | None, limit: int, as_json: bool) -> None:
    """The most frequent searches that found nothing, so authors can write what is missing.

    Example:

        postsearch report zero-results --days 30 --limit 10
    """
    if log_path is None:
        settings = from_environment()
        try:
            check_settings(settings)
        except ValueError as exc:
            raise click.UsageError(f"bad configuration: {exc}") from None
        log_path = zero_results_path(settings)
        if log_path is None:
            raise click.UsageError("zero-result logging is off (POSTSEARCH_ZERO_RESULTS_LOG=off)")
    since = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=days - 1) if days else None
    rows = read_report(log_path, since, limit)
    if as_json:
        click.echo(json.dumps({"log": str(log_path), "queries": [asdict(r) for r in rows]}))
        return
    if not rows:
        click.echo(f"No zero-result searches recorded in {log_path}.")
        return
    width = max(len("query"), *(len(r.query) for r in rows))
    click.echo(f"{'count':>6}  {'query':<{width}}  first seen  last seen")
    for row in rows:
        click.echo(f"{row.count:>6}  {row.query:<{width}}  {row.first_day}  {row.last_day}")
