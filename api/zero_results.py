"""Searches that found nothing: counted in memory and appended to a log that survives restarts.

Authors learn what readers look for and do not find. Nothing personal is kept: no
address, agent, cookie or time finer than the day, and the query itself is
normalised (lowercased, spaces collapsed, capped) with e-mail addresses and long digit
runs (phone, order or card numbers) replaced by placeholders. Each record is one JSON
line written with a single O_APPEND write, so several gunicorn workers can share
the file without interleaving lines.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

MAX_QUERY_CHARS = 100
MAX_DISTINCT_IN_MEMORY = 10_000
_EMAIL = re.compile(r"\S+@\S+")
_DIGITS = re.compile(r"\+?\d[\d\s().+-]{4,}\d")


def normalise(query: str) -> str:
    """The query as it is recorded: no personal details, lowercase, one space, capped."""
    text = _EMAIL.sub("[email]", query)
    text = _DIGITS.sub("[number]", text)
    text = " ".join("".join(c if c.isprintable() else " " for c in text).lower().split())
    return text[:MAX_QUERY_CHARS].strip()


class ZeroResultLog:
    """Counts zero-result queries of this process and appends them to `path` (if any)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def record(self, query: str, today: dt.date | None = None) -> None:
        """Count one search that found nothing; a failing disk never fails the search."""
        text = normalise(query)
        if not text:
            return
        with self._lock:
            if text in self.counts or len(self.counts) < MAX_DISTINCT_IN_MEMORY:
                self.counts[text] += 1
        if self.path is None:
            return
        day = (today or dt.datetime.now(dt.UTC).date()).isoformat()
        line = json.dumps({"day": day, "query": text}, ensure_ascii=False) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                os.write(fd, line.encode("utf-8"))
            finally:
                os.close(fd)
        except OSError:
            pass


@dataclass(frozen=True)
class ZeroResultQuery:
    """One query of the report: how often it found nothing and when it was last seen."""

    query: str
    count: int
    first_day: str
    last_day: str


def read_report(path: Path, since: dt.date | None = None, limit: int = 20) -> list[ZeroResultQuery]:
    """The most frequent zero-result queries in the log (since a day), most frequent first.

    Lines that are not valid records (a torn last line, hand edits) are skipped.
    """
    counts: Counter[str] = Counter()
    days: dict[str, list[str]] = {}
    for record in _records(path):
        day, query = record
        if since is not None and day < since.isoformat():
            continue
        counts[query] += 1
        first_last = days.setdefault(query, [day, day])
        first_last[0], first_last[1] = min(first_last[0], day), max(first_last[1], day)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return [ZeroResultQuery(q, n, *days[q]) for q, n in ranked]


def _records(path: Path) -> Iterable[tuple[str, str]]:
    if not path.is_file():
        return
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            try:
                record = json.loads(line)
                day, query = record["day"], record["query"]
            except (ValueError, KeyError, TypeError):
                continue
            if isinstance(day, str) and isinstance(query, str) and query:
                yield day, query
