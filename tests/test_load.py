"""Load: three gunicorn workers under concurrent clients while posts change and get reindexed.

Six client threads search, browse and ask for related posts for a fixed time while the
main thread runs several reindexes in a row, each adding, modifying and deleting posts
that carry a marker word. Every answer to the marker query must list exactly the posts
of the build it names, and requests made after a reindex returned must see its build.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.conftest import LiveServer, write_post

pytestmark = [pytest.mark.e2e]

CLIENTS = 6
LOAD_SECONDS = 15.0  # the load runs at least this long, and until the last reindex is done
ROUNDS = 5
WARM_UP = 0.5  # seconds of load before the first reindex
ROUND_GAP = 0.2  # seconds of load between one round's checks and the next round
FRESH_CHECKS = 10
TIMEOUT = 10
# Think time between a client's requests: bounds the load so that the reindexes (a CLI
# process each) still get CPU on a small machine.
PAUSE = 0.1
MARKER = "loadmarker"
QUERIES = ("neural networks", "sourdough", "postgres index", "budget")
RELATED_SLUGS = (
    "css-grid-vs-flexbox",
    "neural-network-basics-how-machines-learn",
    "sourdough-bread-for-beginners",
    "ranking-search-results-with-bm25",
)
# Sample posts that a round marks (and a later round restores); never the related slugs.
SAMPLE_EDITS = (
    "react-hooks-in-practice",
    "versioning-rest-apis",
    "slow-travel-in-kyoto",
    "rate-limiting-python-apis",
    "building-an-emergency-fund",
)
BUILT = re.compile(r"^Built (\S+) in ", re.MULTILINE)


def round_word(number: int) -> str:
    return f"zyxmarker{number}"


@dataclass
class Seen:
    """One answered request: when it started, what it asked and the build that answered."""

    started: float
    path: str
    build_id: str
    marker_slugs: frozenset[str] | None = None  # only for the marker query


@dataclass
class ClientLog:
    requests: int = 0
    failures: list[str] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)


def client_loop(url: str, number: int, stop: threading.Event, log: ClientLog) -> None:
    """Cycle through the request mix until `stop`; never raises (failures are logged)."""
    mix: list[tuple[str, dict[str, str | int]]] = []
    for i, query in enumerate(QUERIES):
        mix.append(("/api/search", {"q": query}))
        mix.append(("/api/search", {"q": MARKER, "per_page": 50}))
        mix.append((f"/api/posts/{RELATED_SLUGS[i % len(RELATED_SLUGS)]}/related", {}))
        mix.append(("/api/search", {"q": ""}))
    step = number  # each client starts at a different place in the mix
    with requests.Session() as session:
        while not stop.wait(PAUSE):
            path, params = mix[step % len(mix)]
            step += 1
            started = time.monotonic()
            log.requests += 1
            label = f"GET {path} {params}"
            try:
                response = session.get(url + path, params=params, timeout=TIMEOUT)
                if response.status_code != 200:
                    log.failures.append(f"{label}: {response.status_code} {response.text[:200]}")
                    continue
                body = response.json()  # a body that is not JSON raises: a failure
                seen = Seen(started, path, body["build_id"])
                if params.get("q") == MARKER:
                    slugs = [r["slug"] for r in body["results"]]
                    if body["total"] != len(slugs) or len(set(slugs)) != len(slugs):
                        log.failures.append(f"{label}: total {body['total']} for {slugs}")
                    seen.marker_slugs = frozenset(slugs)
                log.seen.append(seen)
            except Exception as exc:  # any exception is a failed request, not a dead thread
                log.failures.append(f"{label}: {type(exc).__name__}: {exc}"[:300])


class Corpus:
    """The posts this test writes, and the slugs each word should find."""

    def __init__(self, posts_dir: Path) -> None:
        self.posts_dir = posts_dir
        self.originals = {
            slug: (posts_dir / f"{slug}.md").read_text(encoding="utf-8") for slug in SAMPLE_EDITS
        }
        self.words: dict[str, set[str]] = {}  # slug -> marker words it now contains

    def write_new(self, slug: str, words: list[str]) -> None:
        body = (
            "A short note written by the load test while the service is busy. "
            "It talks about searching blog posts and keeping the index fresh for readers. "
            + " ".join(words)
            + "\n\nThe end of the note is here, and it is plain English."
        )
        write_post(
            self.posts_dir,
            f"{slug}.md",
            {
                "title": f"Load test note {slug}",
                "date": "2024-02-01T10:00:00Z",
                "slug": slug,
                "categories": ["Testing"],
                "lang": "en",
            },
            body,
        )
        self.words[slug] = set(words)

    def mark_sample(self, slug: str, words: list[str]) -> None:
        text = self.originals[slug] + "\n\nA note added by the load test: " + " ".join(words)
        (self.posts_dir / f"{slug}.md").write_text(text + ".\n", encoding="utf-8")
        self.words[slug] = set(words)

    def restore_sample(self, slug: str) -> None:
        (self.posts_dir / f"{slug}.md").write_text(self.originals[slug], encoding="utf-8")
        self.words.pop(slug, None)

    def delete(self, slug: str) -> None:
        (self.posts_dir / f"{slug}.md").unlink()
        self.words.pop(slug, None)

    def having(self, word: str) -> frozenset[str]:
        return frozenset(slug for slug, words in self.words.items() if word in words)

    def change(self, number: int) -> None:
        """Round `number`: add a post, mark a sample post, unmark, restore and delete older ones."""
        word = round_word(number)
        self.write_new(f"loadtest-{number}", [MARKER, word])
        self.mark_sample(SAMPLE_EDITS[number - 1], [MARKER, word])
        if number >= 2:  # modified: leaves the marker set, still found by this round's word
            self.write_new(f"loadtest-{number - 1}", [word])
        if number >= 3:  # deleted, and a sample post restored to its original text
            self.delete(f"loadtest-{number - 2}")
            self.restore_sample(SAMPLE_EDITS[number - 3])


def fresh_get(url: str, path: str, params: dict[str, str | int]) -> dict:
    """One request on a new connection (requests.get opens and closes its own session)."""
    response = requests.get(
        url + path, params=params, timeout=TIMEOUT, headers={"Connection": "close"}
    )
    assert response.status_code == 200, f"{path} {params}: {response.status_code}"
    return response.json()


def test_reindexes_under_concurrent_load_are_consistent(tmp_path: Path) -> None:
    server = LiveServer(tmp_path)
    server.env["POSTSEARCH_WORKERS"] = "3"
    corpus = Corpus(server.posts_dir)
    assert not any(
        MARKER in p.read_text(encoding="utf-8") for p in server.posts_dir.rglob("*.md")
    ), "the sample corpus has the marker"
    first = server.reindex()
    assert first.returncode == 0, first.stderr
    initial_id = BUILT.search(first.stdout).group(1)  # type: ignore[union-attr]
    published: list[str] = [initial_id]  # build ids in publication order
    expected: dict[str, frozenset[str]] = {initial_id: frozenset()}
    returned_at: list[float] = [0.0]  # when the reindex that published each build returned
    reports: list[str] = []

    stop = threading.Event()
    logs = [ClientLog() for _ in range(CLIENTS)]
    clients = [
        threading.Thread(
            target=client_loop, args=(server.url, n, stop, logs[n]), name=f"load-client-{n}"
        )
        for n in range(CLIENTS)
    ]
    server.start()
    started = time.monotonic()
    try:
        for client in clients:
            client.start()
        for number in range(1, ROUNDS + 1):
            time.sleep(WARM_UP if number == 1 else ROUND_GAP)  # clients run before and between
            corpus.change(number)
            began = time.monotonic()
            result: subprocess.CompletedProcess[str] = server.reindex()
            returned = time.monotonic()
            took = returned - began
            assert result.returncode == 0, result.stderr
            match = BUILT.search(result.stdout)
            assert match, f"round {number} published nothing: {result.stdout}"
            build_id = match.group(1)
            link = (server.index_dir / "current").readlink()
            assert link.name == build_id
            manifest = (server.index_dir / "current" / "manifest.json").read_text(encoding="utf-8")
            mode = json.loads(manifest)["mode"]  # "full" or "incremental", whatever the CLI says
            published.append(build_id)
            expected[build_id] = corpus.having(MARKER)
            returned_at.append(returned)
            reports.append(
                f"round {number}: {took:.2f}s mode={mode} "
                f"marker posts={len(expected[build_id])}: "
                f"{result.stdout.strip()}"
            )
            for check in range(FRESH_CHECKS):  # new connections land on any of the workers
                word = round_word(number) if check % 2 == 0 else MARKER
                body = fresh_get(server.url, "/api/search", {"q": word, "per_page": 50})
                assert body["build_id"] == build_id, f"round {number}: stale build for {word}"
                assert {r["slug"] for r in body["results"]} == corpus.having(word), word
        time.sleep(max(ROUND_GAP, started + LOAD_SECONDS - time.monotonic()))
    finally:
        stop.set()
        for client in clients:
            client.join(timeout=TIMEOUT + 5)
        server.stop()
    elapsed = time.monotonic() - started
    assert not any(client.is_alive() for client in clients)

    total = sum(log.requests for log in logs)
    failures = [failure for log in logs for failure in log.failures]
    seen = [s for log in logs for s in log.seen]
    marker_answers = [s for s in seen if s.marker_slugs is not None]
    print(
        f"\nload: {total} requests in {elapsed:.1f}s by {CLIENTS} clients on 3 workers, "
        f"{len(failures)} failed, {len(marker_answers)} marker answers checked, "
        f"{len(published) - 1} reindexes"
    )
    for line in reports:
        print("  " + line)

    order = {build_id: n for n, build_id in enumerate(published)}
    wrong: list[str] = []
    for answer in seen:
        position = order.get(answer.build_id)
        if position is None and answer.build_id < published[1]:
            position = 0  # published before the first recorded build: the initial set
        if position is None:
            wrong.append(f"{answer.path}: unknown build {answer.build_id}")
            continue
        newest_done = max(n for n, at in enumerate(returned_at) if at <= answer.started)
        if position < newest_done:
            wrong.append(
                f"{answer.path}: build {answer.build_id} answered a request made "
                f"after {published[newest_done]} was published"
            )
        if answer.marker_slugs is not None:
            want = expected[published[position]]
            if answer.marker_slugs != want:
                wrong.append(
                    f"{MARKER} on {answer.build_id}: got {sorted(answer.marker_slugs)}, "
                    f"expected {sorted(want)}"
                )
    assert failures == [], f"{len(failures)} failed requests, e.g. {failures[:5]}"
    assert wrong == [], f"{len(wrong)} inconsistent answers, e.g. {wrong[:5]}"
    assert marker_answers, "no marker query was answered"
    assert total > 200
