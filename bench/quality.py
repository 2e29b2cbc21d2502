"""Search quality on a BEIR data set: our `/api/search` ranking against three peers.

    python -m bench.quality --beir DIR [--split test] [--json] [--limit-queries N]

DIR is a folder in BEIR format: `corpus.jsonl[.gz]`, `queries.jsonl[.gz]` and
`qrels/<split>.tsv` (tab-separated, optional header line, CRLF endings allowed).
Every document becomes a Markdown post (YAML front matter with `title` and a safe
`slug` made from the doc id, body = text), built with `index.build` and searched with
the same `Searcher.search` call the API makes (top 100, query capped as in the service).
The same documents and queries go to the peers:

- bm25s: BM25 (Lucene variant), English stop words, PyStemmer "english", top 100;
- fts5: SQLite FTS5 with `tokenize='porter'`, title and text as two columns (equal
  weight), ranked by `bm25()`, query = OR of the quoted query words, top 100;
- whoosh: a plain Whoosh index (title and text TEXT fields with StemmingAnalyzer,
  `MultifieldParser(["title", "text"], group=OrGroup)`, default BM25F), top 100.

nDCG@10 and R@100 come from ir-measures (trec_eval semantics), averaged over every judged
query of the split; a query with no results scores 0. Each system's own order is kept
(run scores are 100, 99, ...), so ties in the engines' scores cannot reorder a list.
With --json the last line is `{system: {"ndcg@10": x, "recall@100": y}}`.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

TOP_K = 100
SYSTEMS = ("postsearch", "bm25s", "fts5", "whoosh")
_SLUG_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_FTS_WORD = re.compile(r"\w+")


@dataclass
class Dataset:
    """Documents (id -> (title, text)), the judged queries of one split and their qrels."""

    docs: dict[str, tuple[str, str]]
    queries: dict[str, str]  # judged queries only, in qrels order
    qrels: dict[str, dict[str, int]]  # query id -> doc id -> relevance


@dataclass
class SystemRun:
    """One system's ranked doc ids per query, its index time and per-query times."""

    name: str
    build_s: float = 0.0
    ranked: dict[str, list[str]] = field(default_factory=dict)
    query_ms: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _open_jsonl(folder: Path, name: str) -> Iterator[dict]:
    """Yield the records of `name.jsonl` or `name.jsonl.gz` in `folder`."""
    plain, packed = folder / f"{name}.jsonl", folder / f"{name}.jsonl.gz"
    if plain.is_file():
        handle = plain.open(encoding="utf-8")
    elif packed.is_file():
        handle = gzip.open(packed, "rt", encoding="utf-8")
    else:
        raise SystemExit(f"neither {plain} nor {packed} exists")
    with handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """Qrels TSV (query-id, corpus-id, score): header lines and CR characters are skipped."""
    qrels: dict[str, dict[str, int]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.strip("\r\n").split("\t")
        if len(parts) < 3:
            continue
        try:
            score = int(float(parts[-1]))
        except ValueError:  # the header line
            continue
        qrels.setdefault(parts[0].strip(), {})[parts[1].strip()] = score
    return qrels


def load_beir(folder: Path, split: str, limit: int | None) -> Dataset:
    """Read a BEIR folder; keep the split's judged queries (the first `limit` of them)."""
    qrels_path = folder / "qrels" / f"{split}.tsv"
    if not qrels_path.is_file():
        raise SystemExit(f"no qrels file {qrels_path}")
    qrels = read_qrels(qrels_path)
    texts = {str(q["_id"]): q.get("text") or "" for q in _open_jsonl(folder, "queries")}
    missing = [qid for qid in qrels if qid not in texts]
    if missing:
        print(f"warning: {len(missing)} judged queries have no text; skipped", file=sys.stderr)
    judged = [qid for qid in qrels if qid in texts][:limit]
    docs = {
        str(d["_id"]): ((d.get("title") or "").strip(), d.get("text") or "")
        for d in _open_jsonl(folder, "corpus")
    }
    return Dataset(docs, {q: texts[q] for q in judged}, {q: qrels[q] for q in judged})


def make_slugs(doc_ids: list[str]) -> dict[str, str]:
    """A unique, URL-safe, case-insensitively distinct slug for every doc id (slug -> id)."""
    slugs: dict[str, str] = {}
    for doc_id in doc_ids:
        base = _SLUG_UNSAFE.sub("-", doc_id).strip("-.").lower() or "doc"
        slug, number = base, 2
        while slug in slugs:
            slug, number = f"{base}-{number}", number + 1
        slugs[slug] = doc_id
    return slugs


def write_posts(docs: dict[str, tuple[str, str]], posts_dir: Path) -> dict[str, str]:
    """One Markdown file per document, named after its slug; returns slug -> doc id."""
    slugs = make_slugs(list(docs))
    for slug, doc_id in slugs.items():
        title, text = docs[doc_id]
        # The project refuses posts without a title: an untitled document gets its id.
        front = yaml.safe_dump(
            {"title": title or doc_id, "slug": slug}, allow_unicode=True, width=1_000_000
        )
        (posts_dir / f"{slug}.md").write_text(f"---\n{front}---\n\n{text}\n", encoding="utf-8")
    return slugs


def _timed_queries(
    run: SystemRun, queries: dict[str, str], search: Callable[[str], list[str]]
) -> None:
    for qid, text in queries.items():
        started = time.perf_counter()
        run.ranked[qid] = search(text)[:TOP_K]
        run.query_ms.append((time.perf_counter() - started) * 1000)


def run_postsearch(data: Dataset, work: Path) -> SystemRun:
    """Build the documents as posts with `index.build` and query them like `/api/search`."""
    from index import build
    from search import Searcher, SearchRequest

    run = SystemRun("postsearch")
    posts_dir, index_dir = work / "posts", work / "index"
    posts_dir.mkdir()
    started = time.perf_counter()
    slugs = write_posts(data.docs, posts_dir)
    run.notes.append(f"wrote {len(slugs)} posts in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    result = build(posts_dir, index_dir)
    run.build_s = time.perf_counter() - started
    if result.skipped or result.duplicates:
        run.notes.append(f"{len(result.skipped)} posts skipped, {len(result.duplicates)} renamed")
    fallbacks, partial = 0, 0
    with Searcher(index_dir) as searcher:
        searcher.search(SearchRequest(q="warm up"))

        def search(text: str) -> list[str]:
            nonlocal fallbacks, partial
            page = searcher.search(SearchRequest(q=text, per_page=TOP_K, page=1))
            fallbacks += page.fallback is not None
            partial += page.partial
            return [slugs[hit.slug] for hit in page.hits if hit.slug in slugs]

        _timed_queries(run, data.queries, search)
    if fallbacks or partial:
        run.notes.append(f"searcher fallback on {fallbacks} queries, time limit on {partial}")
    return run


def run_bm25s(data: Dataset) -> SystemRun:
    """bm25s (Lucene BM25, k1=1.5, b=0.75) over title + text, English stop words and stems."""
    import bm25s
    import Stemmer

    run = SystemRun("bm25s")
    stemmer = Stemmer.Stemmer("english")
    ids = list(data.docs)
    started = time.perf_counter()
    tokens = bm25s.tokenize(
        [f"{title} {text}" for title, text in data.docs.values()],
        stopwords="en",
        stemmer=stemmer,
        show_progress=False,
    )
    retriever = bm25s.BM25()
    retriever.index(tokens, show_progress=False)
    run.build_s = time.perf_counter() - started
    k = min(TOP_K, len(ids))

    def search(text: str) -> list[str]:
        query = bm25s.tokenize(
            [text], stopwords="en", stemmer=stemmer, return_ids=False, show_progress=False
        )
        found, scores = retriever.retrieve(query, k=k, show_progress=False, n_threads=1)
        # bm25s always returns k documents; those scoring 0 match no query word.
        return [ids[int(d)] for d, s in zip(found[0], scores[0], strict=True) if s > 0]

    _timed_queries(run, data.queries, search)
    return run


def fts5_query(text: str) -> str:
    """An FTS5 MATCH expression: every distinct word of `text`, quoted, joined by OR."""
    words = dict.fromkeys(w.lower() for w in _FTS_WORD.findall(text))
    return " OR ".join('"' + w.replace('"', '""') + '"' for w in words)


def run_fts5(data: Dataset, work: Path) -> SystemRun:
    """SQLite FTS5 (porter over unicode61), columns title and text, ranked by bm25()."""
    run = SystemRun("fts5")
    ids = list(data.docs)
    started = time.perf_counter()
    db = sqlite3.connect(work / "fts5.sqlite")
    try:
        db.execute("CREATE VIRTUAL TABLE docs USING fts5(title, text, tokenize='porter')")
        with db:
            db.executemany(
                "INSERT INTO docs(rowid, title, text) VALUES (?, ?, ?)",
                ((row, *data.docs[doc_id]) for row, doc_id in enumerate(ids)),
            )
        run.build_s = time.perf_counter() - started
        sql = "SELECT rowid FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT ?"

        def search(text: str) -> list[str]:
            match = fts5_query(text)
            if not match:
                return []
            return [ids[row] for (row,) in db.execute(sql, (match, TOP_K))]

        _timed_queries(run, data.queries, search)
    finally:
        db.close()
    return run


def run_whoosh(data: Dataset, work: Path) -> SystemRun:
    """Whoosh the way most Flask apps use it: StemmingAnalyzer, MultifieldParser, OrGroup."""
    from whoosh import index as whoosh_index
    from whoosh.analysis import StemmingAnalyzer
    from whoosh.fields import ID, TEXT, Schema
    from whoosh.qparser import MultifieldParser, OrGroup

    run = SystemRun("whoosh")
    folder = work / "whoosh"
    folder.mkdir()
    schema = Schema(
        id=ID(stored=True),
        title=TEXT(analyzer=StemmingAnalyzer()),
        text=TEXT(analyzer=StemmingAnalyzer()),
    )
    started = time.perf_counter()
    ix = whoosh_index.create_in(str(folder), schema)
    writer = ix.writer(procs=1)
    for doc_id, (title, text) in data.docs.items():
        writer.add_document(id=doc_id, title=title, text=text)
    writer.commit()
    run.build_s = time.perf_counter() - started
    parser = MultifieldParser(["title", "text"], ix.schema, group=OrGroup)
    errors = 0
    with ix.searcher() as searcher:

        def search(text: str) -> list[str]:
            nonlocal errors
            try:
                return [hit["id"] for hit in searcher.search(parser.parse(text), limit=TOP_K)]
            except Exception:  # noqa: BLE001 - a query the parser cannot handle finds nothing
                errors += 1
                return []

        _timed_queries(run, data.queries, search)
    ix.close()
    if errors:
        run.notes.append(f"{errors} queries failed to parse (no results)")
    return run


def per_query(data: Dataset, run: SystemRun) -> dict[str, dict[str, float]]:
    """nDCG@10 and R@100 of every judged query (0 for a query with no results)."""
    import ir_measures
    from ir_measures import R, nDCG

    measures = {"ndcg@10": nDCG @ 10, "recall@100": R @ 100}
    qrels = [
        ir_measures.Qrel(qid, doc_id, rel)
        for qid, judged in data.qrels.items()
        for doc_id, rel in judged.items()
    ]
    scored = [
        ir_measures.ScoredDoc(qid, doc_id, float(len(docs) - rank))
        for qid, docs in run.ranked.items()
        for rank, doc_id in enumerate(docs)
    ]
    values = {qid: dict.fromkeys(measures, 0.0) for qid in data.queries}
    names = {str(measure): name for name, measure in measures.items()}
    for metric in ir_measures.iter_calc(list(measures.values()), qrels, scored):
        values[metric.query_id][names[str(metric.measure)]] = float(metric.value)
    return values


def summarize(data: Dataset, run: SystemRun) -> dict[str, float]:
    """Mean measures over all judged queries, plus empty-result count and timings."""
    values = per_query(data, run)
    count = len(data.queries)
    return {
        "ndcg@10": sum(v["ndcg@10"] for v in values.values()) / count,
        "recall@100": sum(v["recall@100"] for v in values.values()) / count,
        "no_results": sum(not run.ranked.get(qid) for qid in data.queries),
        "build_s": run.build_s,
        "query_ms": statistics.median(run.query_ms) if run.query_ms else 0.0,
    }


def run_all(data: Dataset) -> list[SystemRun]:
    """Index and query the data set with every system, one after the other."""
    with tempfile.TemporaryDirectory(prefix="bench-quality-") as tmp:
        work = Path(tmp)
        runners = {
            "postsearch": lambda: run_postsearch(data, work),
            "bm25s": lambda: run_bm25s(data),
            "fts5": lambda: run_fts5(data, work),
            "whoosh": lambda: run_whoosh(data, work),
        }
        runs = []
        for name in SYSTEMS:
            print(f"running {name} ...", file=sys.stderr, flush=True)
            runs.append(runners[name]())
        return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--beir", type=Path, required=True, help="folder in BEIR format")
    parser.add_argument("--split", default="test", help="qrels/<split>.tsv to evaluate")
    parser.add_argument("--json", action="store_true", help="end with one JSON line of scores")
    parser.add_argument("--limit-queries", type=int, default=None, metavar="N")
    args = parser.parse_args()
    data = load_beir(args.beir, args.split, args.limit_queries)
    if not data.queries:
        raise SystemExit(f"no judged queries in split {args.split!r}")
    runs = run_all(data)
    rows = {run.name: summarize(data, run) for run in runs}
    print(
        f"{args.beir.name} {args.split}: {len(data.docs)} docs, "
        f"{len(data.queries)} judged queries, top {TOP_K}"
    )
    header = ("system", "nDCG@10", "R@100", "no results", "build s", "ms p50")
    print("{:<12} {:>8} {:>7} {:>11} {:>8} {:>7}".format(*header))
    for name, row in rows.items():
        print(
            f"{name:<12} {row['ndcg@10']:>8.4f} {row['recall@100']:>7.4f} "
            f"{row['no_results']:>11} {row['build_s']:>8.1f} {row['query_ms']:>7.1f}"
        )
    for run in runs:
        for note in run.notes:
            print(f"  {run.name}: {note}")
    if args.json:
        scores = {
            name: {"ndcg@10": row["ndcg@10"], "recall@100": row["recall@100"]}
            for name, row in rows.items()
        }
        print(json.dumps(scores))


if __name__ == "__main__":
    main()
