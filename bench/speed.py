"""Speed at a given corpus size, our service beside the peers, in one run.

    python -m bench.speed --size N [--seed S] [--posts DIR] [--seconds 10] [--json]
                          [--peers bm25s tantivy fts5 whoosh] [--no-http]

Writes (or reuses, with --posts) a synthetic blog of N posts (`bench.corpus`), then
measures on this machine, in this order, one table at the end:

1. reindex in a child process: full build (wall time, posts/s, peak RSS, size on
   disk), then one changed post, then nothing changed (the build's own time, i.e.
   what the server's reindex endpoint spends, and the child's wall time including the
   interpreter start);
2. in-process search latency p50/p95/p99 over a realistic query mix (1-3 words by
   frequency, common words, long questions, typos): our full call (top 10 with
   snippets and facets, answer cache off), and the peers' top-10 retrieval on the
   same posts and queries: bm25s, tantivy, SQLite FTS5 (OR of the words, bm25()),
   plain Whoosh (OrGroup, top 10). Ratios are against bm25s and Whoosh. The systems
   take turns over blocks of 50 queries, so the machine's slow spells fall on all alike;
3. HTTP through gunicorn with 2 workers on loopback under `wrk` (Debian's; a bounded
   Python client when wrk is missing): requests/s and p99 of /api/search with
   realistic repetition (popular queries recur, Zipf) and with every query unique,
   /api/posts/<slug>/related, /api/suggest, and /healthz as the ceiling of the same
   server in the same run; then the workers' resident memory once warm. The machine's
   speed drifts within seconds, so /healthz is measured again right before each
   endpoint's turn, and each endpoint's "/ healthz" is the median of those paired
   ratios (the healthz row is the median of all its turns).

With --json the last line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, urlencode

import numpy as np

from bench.corpus import SOURCES, write_corpus
from bench.search_latency import percentile

ROOT = Path(__file__).resolve().parents[1]
_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)
_WORD = re.compile(r"[a-z]{3,}")
QUERY_POOL = 2000
# Searches drawn from the pool by popularity: long enough that an HTTP run never sends
# the same stream twice (a short stream sent in a loop is all answered from cache).
TRAFFIC = 30_000
UNIQUE_QUERIES = 30_000


# --- corpus and queries -----------------------------------------------------------------


def read_posts(posts_dir: Path) -> list[tuple[str, str, str]]:
    """(slug, title, body) of every post, for the peers (front matter stripped)."""
    import yaml

    out = []
    for path in sorted(posts_dir.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        match = _FRONT.match(text)
        front = yaml.load(match.group(1), Loader=yaml.CSafeLoader) if match else {}
        out.append((front["slug"], front["title"], text[match.end() if match else 0 :]))
    return out


def make_queries(posts: list[tuple[str, str, str]], seed: int) -> tuple[list[str], list[str]]:
    """(realistic traffic with repetition, the same mix with every query unique)."""
    rng = np.random.default_rng(seed)
    df: dict[str, int] = {}
    for _, title, body in posts[:5000]:
        for word in set(_WORD.findall((title + " " + body).lower())):
            df[word] = df.get(word, 0) + 1
    ranked = sorted(df, key=lambda w: -df[w])
    common, middle = ranked[20:120], ranked[120:20000]
    weights = np.array([df[w] for w in middle], dtype=np.float64)
    weights /= weights.sum()

    def one() -> str:
        kind = rng.random()
        if kind < 0.6:  # 1-3 words, by frequency
            return " ".join(rng.choice(middle, int(rng.integers(1, 4)), p=weights))
        if kind < 0.7:  # a common word or two
            return " ".join(rng.choice(common, int(rng.integers(1, 3))))
        if kind < 0.85:  # a long question
            words = list(rng.choice(ranked[:5000], int(rng.integers(8, 13))))
            return "how do " + " ".join(words)
        word = str(rng.choice([w for w in middle[:3000] if len(w) >= 6]))  # a typo
        i = int(rng.integers(1, len(word) - 2))
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]

    pool = list(dict.fromkeys(one() for _ in range(QUERY_POOL)))
    popularity = 1.0 / np.arange(1, len(pool) + 1)
    popularity /= popularity.sum()
    traffic = [pool[i] for i in rng.choice(len(pool), TRAFFIC, p=popularity)]
    # Enough never-repeated queries that a whole HTTP run sends each at most once.
    unique = list(dict.fromkeys(one() for _ in range(UNIQUE_QUERIES)))
    return traffic, unique


# --- reindex ----------------------------------------------------------------------------

_BUILD_CHILD = """
import json, sys, time
from pathlib import Path
from index import BuildOptions, build
started = time.perf_counter()
result = build(Path(sys.argv[1]), Path(sys.argv[2]), BuildOptions(full=sys.argv[3] == "full"))
print(json.dumps({"build_s": result.seconds, "mode": result.mode, "posts": result.indexed,
                  "dir": str(result.build_dir)}))
"""


def run_build(posts_dir: Path, index_dir: Path, full: bool) -> dict:
    """Build in a child process: its own timing, wall time and peak RSS."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _BUILD_CHILD,
            str(posts_dir),
            str(index_dir),
            "full" if full else "",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    out = child.stdout.read() if child.stdout else ""
    _, status, usage = os.wait4(child.pid, 0)  # reap it ourselves to read its peak RSS
    child.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if child.returncode:
        raise SystemExit(f"build failed with exit code {child.returncode}")
    row = json.loads(out.strip().splitlines()[-1])
    row["wall_s"] = wall
    row["peak_rss_mb"] = usage.ru_maxrss / 1024
    return row


def folder_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


_WARM_COMPILED = """
from index.duplicates import compiled_pairs
from index.topn import compiled_search
compiled_search()
compiled_pairs()
"""


def warm_compiled_search() -> float:
    """Compile (or load from numba's cache) the related search's and the near-duplicate
    pair search's loops in a child, as a machine's first large build does once: the
    timed builds then measure building, not a one-time compile. Returns the child's
    wall time."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", _WARM_COMPILED], cwd=ROOT, check=True)
    return time.perf_counter() - started


def measure_reindex(posts_dir: Path, index_dir: Path) -> dict:
    compile_s = warm_compiled_search()
    full = run_build(posts_dir, index_dir, full=True)
    changed = sorted(posts_dir.glob("*.md"))[len(list(posts_dir.glob("*.md"))) // 2]
    original = changed.read_text(encoding="utf-8")
    changed.write_text(original + "\nOne more sentence about kettles.\n", encoding="utf-8")
    try:
        one = run_build(posts_dir, index_dir, full=False)
    finally:
        changed.write_text(original, encoding="utf-8")
    back = run_build(posts_dir, index_dir, full=False)  # puts the original back
    noop = run_build(posts_dir, index_dir, full=False)
    return {
        "full": full,
        "one": one,
        "restore": back,
        "noop": noop,
        "size_mb": folder_mb(Path(noop["dir"])),
        "compile_s": compile_s,
    }


# --- in-process latency -----------------------------------------------------------------


# Systems take turns over blocks of this many queries, so a slow spell of the shared
# machine (seconds long) falls on every system alike instead of on whichever ran then.
LATENCY_BLOCK = 50


def timings(function: Callable[[str], object], queries: list[str]) -> list[float]:
    """Milliseconds of each call (the caller warms the engine first)."""
    out = []
    for q in queries:
        started = time.perf_counter()
        function(q)
        out.append((time.perf_counter() - started) * 1000)
    return out


def interleaved_timings(
    searches: dict[str, Callable[[str], object]], queries: list[str]
) -> dict[str, list[float]]:
    """Each system's milliseconds per query, the systems taking turns block by block."""
    for search in searches.values():
        for q in queries[:20]:
            search(q)  # warm caches of the OS and the engine
    out: dict[str, list[float]] = {name: [] for name in searches}
    for start in range(0, len(queries), LATENCY_BLOCK):
        block = queries[start : start + LATENCY_BLOCK]
        for name, search in searches.items():
            out[name] += timings(search, block)
    return out


def ours(index_dir: Path) -> Callable[[str], object]:
    from search import Searcher, SearchRequest

    searcher = Searcher(index_dir, cache_entries=0)
    return lambda q: searcher.search(SearchRequest(q=q))


def peer_bm25s(posts) -> Callable[[str], object]:
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    tokens = bm25s.tokenize(
        [f"{t} {b}" for _, t, b in posts], stopwords="en", stemmer=stemmer, show_progress=False
    )
    retriever = bm25s.BM25()
    retriever.index(tokens, show_progress=False)

    def search(q: str):
        query = bm25s.tokenize([q], stopwords="en", stemmer=stemmer, show_progress=False)
        if not query.vocab:
            return []
        return retriever.retrieve(query, k=10, show_progress=False, n_threads=1)

    return search


def peer_tantivy(posts, work: Path) -> Callable[[str], object]:
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("slug", stored=True)
    builder.add_text_field("title", tokenizer_name="en_stem")
    builder.add_text_field("body", tokenizer_name="en_stem")
    schema = builder.build()
    (work / "tantivy").mkdir()
    index = tantivy.Index(schema, path=str(work / "tantivy"))
    writer = index.writer()
    for slug, title, body in posts:
        writer.add_document(tantivy.Document(slug=slug, title=title, body=body))
    writer.commit()
    index.reload()
    searcher = index.searcher()

    def search(q: str):
        words = " ".join(_WORD.findall(q.lower()))
        if not words:
            return []
        query = index.parse_query(words, ["title", "body"])
        return searcher.search(query, 10).hits

    return search


def peer_fts5(posts, work: Path) -> Callable[[str], object]:
    db = sqlite3.connect(work / "fts.db", check_same_thread=False)
    db.execute(
        "CREATE VIRTUAL TABLE posts USING fts5(slug UNINDEXED, title, body, tokenize='porter')"
    )
    db.executemany("INSERT INTO posts VALUES (?, ?, ?)", posts)
    db.commit()

    def search(q: str):
        words = list(dict.fromkeys(_WORD.findall(q.lower())))
        if not words:
            return []
        match = " OR ".join(f'"{w}"' for w in words)
        sql = "SELECT slug FROM posts WHERE posts MATCH ? ORDER BY bm25(posts) LIMIT 10"
        return db.execute(sql, (match,)).fetchall()

    return search


def peer_whoosh(posts, work: Path) -> Callable[[str], object]:
    from whoosh import index as whoosh_index
    from whoosh import qparser
    from whoosh.analysis import StemmingAnalyzer
    from whoosh.fields import ID, TEXT, Schema

    analyzer = StemmingAnalyzer(expression=r"\w+(\.?\w+)*")
    schema = Schema(
        slug=ID(stored=True), title=TEXT(analyzer=analyzer), body=TEXT(analyzer=analyzer)
    )
    (work / "whoosh").mkdir()
    index = whoosh_index.create_in(str(work / "whoosh"), schema)
    writer = index.writer(procs=2, multisegment=True, limitmb=256)
    for slug, title, body in posts:
        writer.add_document(slug=slug, title=title, body=body)
    writer.commit()
    parser = qparser.MultifieldParser(["title", "body"], schema, group=qparser.OrGroup)
    searcher = index.searcher()

    def search(q: str):
        return [hit["slug"] for hit in searcher.search(parser.parse(q), limit=10)]

    return search


def measure_latency(posts, index_dir: Path, traffic: list[str], peers: list[str]) -> dict:
    queries = traffic[:1000]
    rows: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="bench-speed-peers-") as tmp:
        work = Path(tmp)
        systems: dict[str, Callable[[], Callable[[str], object]]] = {
            "postsearch": lambda: ours(index_dir),
            "bm25s": lambda: peer_bm25s(posts),
            "tantivy": lambda: peer_tantivy(posts, work),
            "fts5": lambda: peer_fts5(posts, work),
            "whoosh": lambda: peer_whoosh(posts, work),
        }
        searches: dict[str, Callable[[str], object]] = {}
        built: dict[str, float] = {}
        for name, make in systems.items():
            if name != "postsearch" and name not in peers:
                continue
            print(f"  latency: indexing for {name} ...", file=sys.stderr, flush=True)
            started = time.perf_counter()
            searches[name] = make()
            built[name] = time.perf_counter() - started
        print("  latency: all systems, taking turns ...", file=sys.stderr, flush=True)
        for name, values in interleaved_timings(searches, queries).items():
            rows[name] = {
                "p50": statistics.median(values),
                "p95": percentile(values, 0.95),
                "p99": percentile(values, 0.99),
                "index_s": built[name],
            }
    return rows


# --- HTTP -------------------------------------------------------------------------------

_WRK_SCRIPT = """
local paths = {}
for line in io.lines(os.getenv("WRK_PATHS")) do paths[#paths + 1] = line end
local threads, counter = 0, 0
function setup(thread) threads = threads + 1; thread:set("id", threads) end
function init(args) counter = tonumber(wrk.thread:get("id")) or 1 end
function request()
  counter = counter + 2
  return wrk.format("GET", paths[(counter % #paths) + 1])
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(index_dir: Path, port: int, work: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "POSTSEARCH_INDEX_DIR": str(index_dir),
        "POSTSEARCH_BIND": f"127.0.0.1:{port}",
        "POSTSEARCH_WORKERS": "2",
        "POSTSEARCH_LOG_FORMAT": "off",
        "POSTSEARCH_ZERO_RESULTS_LOG": str(work / "zero.jsonl"),
    }
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "-c", "gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as reply:
                if reply.status == 200:
                    return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("gunicorn did not start")


_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}  # wrk's units, in ms


def load(
    port: int, paths: list[str], seconds: float, work: Path, timeout: float | None = None
) -> dict:
    """Requests/s and p99 latency for cycling through `paths` under a bounded load.

    `timeout`: how long a request may wait (wrk's own default, 2 s, leaves slower
    requests out of its figures)."""
    listing = work / "paths.txt"
    listing.write_text("\n".join(paths) + "\n", encoding="utf-8")
    if shutil.which("wrk"):
        script = work / "paths.lua"
        script.write_text(_WRK_SCRIPT, encoding="utf-8")
        out = subprocess.run(
            [
                "wrk",
                "-t2",
                "-c8",
                f"-d{int(seconds)}s",
                "--latency",
                *(["--timeout", f"{timeout:g}s"] if timeout else []),
                "-s",
                str(script),
                f"http://127.0.0.1:{port}",
            ],
            env={**os.environ, "WRK_PATHS": str(listing)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
        # "Latency  avg stdev max +/- stdev": the third figure is the slowest request.
        longest = re.search(r"Latency(?:\s+[\d.]+(?:us|ms|s|m)){2}\s+([\d.]+)(us|ms|s|m)\b", out)
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        return {
            "rps": rps,
            "p99_ms": float(p99.group(1)) * _MS[p99.group(2)],
            "max_ms": float(longest.group(1)) * _MS[longest.group(2)],
            "non_2xx": int(errors.group(1)) if errors else 0,
            "client": "wrk",
        }
    return _python_load(port, paths, seconds, timeout or 10.0)


def _python_load(port: int, paths: list[str], seconds: float, timeout: float) -> dict:
    import http.client

    latencies: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    errors = [0]

    def client(offset: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        i = offset
        while time.monotonic() < stop:
            started = time.perf_counter()
            connection.request("GET", paths[i % len(paths)])
            reply = connection.getresponse()
            reply.read()
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                errors[0] += reply.status >= 400
            i += 8

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {
        "rps": len(latencies) / seconds,
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": max(latencies, default=0.0),
        "non_2xx": errors[0],
        "client": "python",
    }


WARMUP_SECONDS = 5
HTTP_ROUNDS = 5
PAIRED_HEALTHZ_SECONDS = 2


def _median_row(runs: list[dict]) -> dict:
    """One endpoint's figures: the median of its rounds (errors added up)."""
    return {
        "rps": statistics.median(r["rps"] for r in runs),
        "p99_ms": statistics.median(r["p99_ms"] for r in runs),
        "non_2xx": sum(r["non_2xx"] for r in runs),
        "client": runs[0]["client"],
        "rounds": [round(r["rps"], 1) for r in runs],
    }


def warmup_paths(slug: str) -> list[str]:
    """Requests that open the build and every lazily built structure in each worker."""
    return [
        "/healthz",
        "/api/search?q=warming+up+the+workers",
        "/api/search?q=wramnig",  # a typo: the spelling masks
        f"/api/posts/{quote(slug, safe='')}/related",
        "/api/suggest?q=warmin",
    ]


def worker_rss_mb(server: subprocess.Popen) -> float:
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    sizes = []
    for pid in children:
        status = Path(f"/proc/{pid}/status").read_text()
        sizes.append(int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024)
    return max(sizes) if sizes else 0.0


def measure_http(
    index_dir: Path,
    traffic: list[str],
    unique: list[str],
    slugs: list[str],
    seconds: float,
    spare_slug: str,
) -> dict:
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-speed-http-") as tmp:
        work = Path(tmp)
        server = start_server(index_dir, port, work)
        try:

            def search_paths(queries: list[str]) -> list[str]:
                return [f"/api/search?{urlencode({'q': q})}" for q in queries]

            prefixes = [q[: max(1, len(q) - 2)] for q in traffic]
            endpoints = {
                "healthz": ["/healthz"],
                "search": search_paths(traffic),
                "search_unique": search_paths(unique),
                "related": [f"/api/posts/{quote(s, safe='')}/related" for s in slugs],
                "suggest": [f"/api/suggest?{urlencode({'q': p})}" for p in prefixes],
            }
            # Warm both workers first: each opens the build on its first request (seconds
            # at 57k posts) and builds its word forms, spelling masks and related context
            # on first use. The warm-up URLs are in none of the measured lists, so no
            # measured request is answered from a cache the warm-up filled.
            print("  http: warming both workers ...", file=sys.stderr, flush=True)
            load(port, warmup_paths(spare_slug), WARMUP_SECONDS, work)
            # The machine is shared and its speed drifts within seconds, so endpoints
            # take turns in HTTP_ROUNDS short rounds with a short healthz run between
            # every two turns; a turn's share is its rate over the geometric mean of the
            # healthz runs just before and just after it (a drift during the turn falls
            # on both sides alike), and each figure is the median of its rounds. Each
            # round sends its own share of the URLs (the unique queries stay unique
            # across rounds).
            measured: dict[str, list[dict]] = {name: [] for name in endpoints}
            paired: dict[str, list[float]] = {name: [] for name in endpoints if name != "healthz"}
            for round_number in range(HTTP_ROUNDS):
                before = load(port, endpoints["healthz"], PAIRED_HEALTHZ_SECONDS, work)
                measured["healthz"].append(before)
                for name in paired:
                    print(f"  http: {name} (round {round_number + 1}) ...", file=sys.stderr)
                    share = endpoints[name][round_number::HTTP_ROUNDS] or endpoints[name]
                    row = load(port, share, seconds / HTTP_ROUNDS, work)
                    after = load(port, endpoints["healthz"], PAIRED_HEALTHZ_SECONDS, work)
                    measured["healthz"].append(after)
                    measured[name].append(row)
                    paired[name].append(row["rps"] / math.sqrt(before["rps"] * after["rps"]))
                    before = after
            rows: dict = {name: _median_row(runs) for name, runs in measured.items()}
            rows["healthz"]["vs_healthz"] = 1.0
            rows["healthz"]["vs_healthz_range"] = [1.0, 1.0]
            for name, ratios in paired.items():
                rows[name]["vs_healthz"] = statistics.median(ratios)
                rows[name]["vs_healthz_range"] = [min(ratios), max(ratios)]
            rows["worker_rss_mb"] = worker_rss_mb(server)
            print("  http: a new build goes live under load ...", file=sys.stderr, flush=True)
            rows["steady_max_ms"], rows["switch_max_ms"] = measure_switch(
                port, index_dir, endpoints["search"], work
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
    return rows


SWITCH_SECONDS = 8
SWITCH_AT = 2.0  # seconds into the load
SWITCH_TIMEOUT = 60.0


def measure_switch(port: int, index_dir: Path, paths: list[str], work: Path) -> tuple[float, float]:
    """The slowest request (ms) of a steady search load, then of the same load while a
    new build goes live: `current` moves to the build before it (checked beforehand,
    as a reindex checks its build before publishing), and each worker opens that build
    on its next request while its other requests wait for it. The load lasts long
    enough for every waiting request to be answered inside it. (The steady load is
    answered mostly from the answer caches; after the switch they start empty.)"""
    from index.store import point_current, previous_build

    before = previous_build(index_dir)  # checked now: the benchmark's reindexes leave three
    steady = load(port, paths, SWITCH_SECONDS, work, SWITCH_TIMEOUT)["max_ms"]
    during: dict = {}

    def run() -> None:
        during.update(load(port, paths, SWITCH_SECONDS, work, SWITCH_TIMEOUT))

    runner = threading.Thread(target=run)
    runner.start()
    time.sleep(SWITCH_AT)
    point_current(index_dir, before.name)
    runner.join()
    if "max_ms" not in during:
        raise SystemExit("the load across the build switch failed (see above)")
    return steady, during["max_ms"]


# --- report -----------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--posts", type=Path, help="reuse (or write) the corpus here")
    parser.add_argument("--seconds", type=float, default=10.0, help="per HTTP endpoint")
    parser.add_argument("--peers", nargs="*", default=["bm25s", "tantivy", "fts5", "whoosh"])
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-speed-") as tmp:
        work = Path(tmp)
        posts_dir = args.posts or work / "posts"
        if not posts_dir.is_dir() or len(list(posts_dir.glob("*.md"))) != args.size:
            print(f"writing {args.size} posts to {posts_dir} ...", file=sys.stderr, flush=True)
            shutil.rmtree(posts_dir, ignore_errors=True)
            write_corpus(
                args.size, args.seed, posts_dir, sorted(p for p in SOURCES.iterdir() if p.is_dir())
            )
        index_dir = work / "index"
        print("reindex ...", file=sys.stderr, flush=True)
        reindex = measure_reindex(posts_dir, index_dir)
        posts = read_posts(posts_dir)
        traffic, unique = make_queries(posts, args.seed)
        print("in-process latency ...", file=sys.stderr, flush=True)
        latency = measure_latency(posts, index_dir, traffic, args.peers)
        http = (
            {}
            if args.no_http
            else measure_http(
                index_dir,
                traffic,
                unique,
                [p[0] for p in posts[:: max(1, len(posts) // 500)]],
                args.seconds,
                posts[1][0] if len(posts) > 1 else posts[0][0],  # outside the list when N > 500
            )
        )
    figures = summarise(args.size, reindex, latency, http)
    print_table(figures, latency, http)
    if args.json:
        print(json.dumps(figures))


def summarise(size: int, reindex: dict, latency: dict, http: dict) -> dict:
    full = reindex["full"]
    return {
        "size": size,
        "search_p95_ms": {name: round(row["p95"], 3) for name, row in latency.items()},
        "search_p50_ms": {name: round(row["p50"], 3) for name, row in latency.items()},
        "search_p99_ms": {name: round(row["p99"], 3) for name, row in latency.items()},
        "http_rps": {k: round(v["rps"], 1) for k, v in http.items() if isinstance(v, dict)},
        "http_vs_healthz": {
            k: round(v["vs_healthz"], 3) for k, v in http.items() if isinstance(v, dict)
        },
        "http_vs_healthz_range": {
            k: [round(x, 3) for x in v["vs_healthz_range"]]
            for k, v in http.items()
            if isinstance(v, dict)
        },
        "http_p99_ms": {k: round(v["p99_ms"], 2) for k, v in http.items() if isinstance(v, dict)},
        "reindex_full_s": round(full["build_s"], 2),
        "reindex_full_wall_s": round(full["wall_s"], 2),
        "reindex_posts_per_s": round(size / full["build_s"], 1),
        "reindex_one_s": round(reindex["one"]["build_s"], 3),
        "reindex_one_wall_s": round(reindex["one"]["wall_s"], 2),
        "reindex_one_mode": reindex["one"]["mode"],
        "reindex_noop_s": round(reindex["noop"]["build_s"], 3),
        "reindex_noop_wall_s": round(reindex["noop"]["wall_s"], 2),
        "reindex_peak_rss_mb": round(full["peak_rss_mb"], 1),
        "index_size_mb": round(reindex["size_mb"], 1),
        "reindex_compile_s": round(reindex["compile_s"], 2),
        "worker_rss_mb": round(http.get("worker_rss_mb", 0.0), 1),
        "http_steady_max_ms": round(http.get("steady_max_ms", 0.0), 1),
        "http_switch_max_ms": round(http.get("switch_max_ms", 0.0), 1),
    }


def print_table(figures: dict, latency: dict, http: dict) -> None:
    print(f"\nspeed at {figures['size']} posts (this machine, one run)\n")
    bm25s, whoosh = latency.get("bm25s"), latency.get("whoosh")
    print(
        f"{'search (in process)':<22}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'p95 / bm25s':>13}{'whoosh p95 / this':>19}"
    )
    for name, row in latency.items():
        vs_bm25s = f"{row['p95'] / bm25s['p95']:.2f}x" if bm25s else "-"
        vs_whoosh = f"{whoosh['p95'] / row['p95']:.1f}x" if whoosh else "-"
        print(
            f"{name:<22}{row['p50']:>9.2f}{row['p95']:>9.2f}{row['p99']:>9.2f}"
            f"{vs_bm25s:>13}{vs_whoosh:>19}"
        )
    if http:
        print(
            f"\n{'HTTP (2 workers)':<22}{'req/s':>9}{'p99 ms':>9}{'/ healthz':>11}"
            f"{'rounds':>13}{'non-2xx':>9}"
        )
        for name, row in http.items():
            if isinstance(row, dict):
                low, high = row["vs_healthz_range"]
                print(
                    f"{name:<22}{row['rps']:>9.0f}{row['p99_ms']:>9.1f}"
                    f"{row['vs_healthz']:>10.2f}x{f'{low:.2f}-{high:.2f}':>13}{row['non_2xx']:>9}"
                )
        print(
            f"(/ healthz: median over {HTTP_ROUNDS} rounds of each turn's rate over the healthz"
            " runs just before and after it; rounds: the lowest and highest of them)"
        )
    f = figures
    print(
        f"\nreindex: full {f['reindex_full_s']:.1f} s ({f['reindex_posts_per_s']:.0f} posts/s,"
        f" wall {f['reindex_full_wall_s']:.1f} s), peak RSS {f['reindex_peak_rss_mb']:.0f} MB,"
        f" index {f['index_size_mb']:.0f} MB on disk; one changed post"
        f" {f['reindex_one_s']:.2f} s ({f['reindex_one_mode']}, wall"
        f" {f['reindex_one_wall_s']:.1f} s); nothing changed {f['reindex_noop_s']:.2f} s"
        f" (wall {f['reindex_noop_wall_s']:.1f} s); before them, loading or compiling the"
        f" related search's loops {f['reindex_compile_s']:.1f} s (once per machine)"
    )
    if http:
        print(f"API worker RSS once warm: {figures['worker_rss_mb']:.0f} MB")
        print(
            f"a new build goes live under load: slowest request {f['http_switch_max_ms']:.0f} ms"
            f" (the same load without a switch: {f['http_steady_max_ms']:.0f} ms)"
        )


if __name__ == "__main__":
    main()
