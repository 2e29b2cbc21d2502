"""Related posts against a blog's own "related" truth, beside six baselines, in one run.

    python -m bench.related --posts DIR --truth FILE [--strip-field NAME ...] [--seed N] [--json]

The truth file maps a post's file name to the file names of its related posts (auth0's
`related-truth.json`: author picks; digitalgov's `inbody-links.json`: links written in
post bodies, a weaker signal). The posts are copied into a temporary folder with every
pin field (`related`, `related_posts`, `relatedPosts` and any `--strip-field`) removed
from the front matter, so the answers never leak into the input (a file whose front
matter cannot be parsed is copied unchanged). The copy is built with `index.build`, and
every post with a truth list is scored on the top 10 of each system:

    postsearch  `Searcher.related(slug, 10)`, the function behind the related endpoint
    random      10 other posts drawn at random (seeded per post by --seed and the slug)
    recent      the 10 newest other posts
    jaccard     Jaccard overlap of label sets: categories and tags+keywords, case-folded
                (a category and a tag of the same name are different labels)
    hugo        Hugo's related content: sum of the weights of shared labels, tags and
                keywords 100, categories 80; ties by date, newest first
    tfidf       cosine of the build's `tfidf.npz` rows alone
    whoosh_mlt  Whoosh "more like this" (`searcher.more_like(docnum, "body", text=...)`)
                over a plain Whoosh index of the build's body texts (title and excerpt when
                the body is empty), built here with the English analyzer: the service's
                own Whoosh index holds no bodies.

Baselines drop candidates that share nothing (score 0), so their lists may be shorter
than 10 (ours are filled with labelled recent posts, as the endpoint serves them); ties go
to the newer post, then the slug. Metrics use binary relevance:
Recall@k = share of the truth list in the top k, MRR@10, nDCG@10 (ideal DCG over
min(|truth|, 10) hits). Truth items not in the index are dropped, a post whose list then
is empty is not judged, and posts missing from the catalog (drafts, unparseable) are
counted and skipped. The "before" columns keep only posts published before the query
post, in both the top-10 list (order kept, ranks closed up) and the truth list. With
--json the last line is {system: {metric: value}}.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import random
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import yaml
from whoosh import index as whoosh_index
from whoosh.fields import ID, TEXT, Schema
from whoosh.query import Term

from index import build
from index.blobs import TEXTS, BlobStore
from index.catalog import load_catalog
from index.related import RelatedSettings, label_informativeness, taxonomy_weight
from index.schema import english_analyzer
from search import PostMoved, PostNotFound, Searcher

PIN_FIELDS = ("related", "related_posts", "relatedPosts")
POST_SUFFIXES = (".md", ".markdown")
TOP = 10
METRICS = ("recall@5", "recall@10", "mrr@10", "ndcg@10")
HUGO_WEIGHTS = {"tags": 100.0, "categories": 80.0}
_BOUNDARY = re.compile(r"^-{3,}\s*$")

Ranker = Callable[[int], list[int]]


def strip_front_matter(text: str, fields: set[str]) -> str | None:
    """The post with `fields` removed from its front matter, or None to copy it unchanged."""
    lines = text.splitlines(keepends=True)
    if not lines or not _BOUNDARY.match(lines[0].lstrip("\ufeff")):
        return None
    end = next((i for i in range(1, len(lines)) if _BOUNDARY.match(lines[i])), None)
    if end is None:
        return None
    try:
        meta = yaml.safe_load("".join(lines[1:end]))
    except yaml.YAMLError:
        return None
    if not isinstance(meta, dict) or not fields & set(meta):
        return None
    kept = {key: value for key, value in meta.items() if key not in fields}
    try:
        front = yaml.safe_dump(kept, allow_unicode=True, sort_keys=False) if kept else ""
    except yaml.YAMLError:
        return None
    return "---\n" + front + "---\n" + "".join(lines[end + 1 :])


def copy_without_pins(posts: Path, out: Path, fields: set[str]) -> tuple[int, int]:
    """Copy the posts folder to `out`, stripping pin fields; (files stripped, files kept)."""
    shutil.copytree(posts, out)
    stripped = kept = 0
    for path in sorted(out.rglob("*")):
        if path.suffix.lower() not in POST_SUFFIXES or not path.is_file():
            continue
        try:
            new = strip_front_matter(path.read_text(encoding="utf-8"), fields)
        except UnicodeDecodeError:
            new = None
        if new is None:
            kept += 1
        else:
            path.write_text(new, encoding="utf-8")
            stripped += 1
    return stripped, kept


def load_truth(path: Path) -> dict[str, list[str]]:
    """Read a truth file: {file name: [file names]} (a list of {"post", "related"} also works)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, list):
        data = {item["post"]: item["related"] for item in data}
    if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
        raise SystemExit(f"{path}: expected an object mapping a file name to a list of names")
    return {str(key): [str(v) for v in values if v] for key, values in data.items()}


def parse_date(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    date = dt.datetime.fromisoformat(value)
    return date if date.tzinfo else date.replace(tzinfo=dt.UTC)


def scores_of(ranked: Sequence[int], wanted: set[int]) -> dict[str, float]:
    """Binary-relevance Recall@5, Recall@10, MRR@10 and nDCG@10 of one ranked list."""
    top = list(ranked)[:TOP]
    hits = [row in wanted for row in top]
    first = next((i for i, hit in enumerate(hits) if hit), None)
    dcg = sum(1 / math.log2(i + 2) for i, hit in enumerate(hits) if hit)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(wanted), TOP)))
    return {
        "recall@5": sum(hits[:5]) / len(wanted),
        "recall@10": sum(hits) / len(wanted),
        "mrr@10": 0.0 if first is None else 1 / (first + 1),
        "ndcg@10": dcg / ideal,
    }


class Corpus:
    """The build's catalog, dates and label sets, in TF-IDF row order."""

    def __init__(self, build_dir: Path) -> None:
        self.records = load_catalog(build_dir)
        self.slugs = [r["slug"] for r in self.records]
        self.row_of_slug = {slug: row for row, slug in enumerate(self.slugs)}
        self.row_of_file: dict[str, int] = {}
        for row, record in enumerate(self.records):
            self.row_of_file.setdefault(record["path"], row)
            self.row_of_file.setdefault(Path(record["path"]).name, row)
        self.dates = [parse_date(r["date"]) for r in self.records]
        oldest = dt.datetime.min.replace(tzinfo=dt.UTC)
        newest_first = sorted(
            range(len(self.records)),
            key=lambda row: (-(self.dates[row] or oldest).timestamp(), self.slugs[row]),
        )
        self.newest_first = newest_first
        self.newness = np.empty(len(self.records), dtype=np.int64)
        self.newness[newest_first] = np.arange(len(self.records))
        self.categories = self._labels(lambda r: [c["name"] for c in r["categories"]])
        self.tags = self._labels(lambda r: [*r["tags"], *r["keywords"]])

    def _labels(self, names: Callable[[dict[str, Any]], list[str]]) -> sp.csr_matrix:
        """Binary post x label matrix of case-folded names."""
        columns: dict[str, int] = {}
        rows, cols = [], []
        for row, record in enumerate(self.records):
            for name in {n.casefold().strip() for n in names(record) if n and n.strip()}:
                rows.append(row)
                cols.append(columns.setdefault(name, len(columns)))
        shape = (len(self.records), max(1, len(columns)))
        return sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=shape)

    def before(self, row: int) -> Callable[[int], bool]:
        """Whether a post was published before post `row` (False when either date is missing)."""
        limit = self.dates[row]

        def older(other: int) -> bool:
            date = self.dates[other]
            return limit is not None and date is not None and date < limit

        return older

    def top(self, row: int, scores: np.ndarray) -> list[int]:
        """The best 10 rows by score (>0, not `row`), ties to the newer post, then the slug."""
        scores = np.asarray(scores, dtype=np.float64).ravel().copy()
        scores[row] = 0.0
        candidates = np.flatnonzero(scores > 0)
        order = np.lexsort((self.newness[candidates], -np.round(scores[candidates], 9)))
        return [int(x) for x in candidates[order][:TOP]]


def postsearch_ranker(searcher: Searcher, corpus: Corpus) -> Ranker:
    def rank(row: int) -> list[int]:
        page = searcher.related(corpus.slugs[row], TOP)
        return [corpus.row_of_slug[post.slug] for post in page.results]

    return rank


def random_ranker(corpus: Corpus, seed: int) -> Ranker:
    def rank(row: int) -> list[int]:
        others = [r for r in range(len(corpus.slugs)) if r != row]
        return random.Random(f"{seed}:{corpus.slugs[row]}").sample(others, min(TOP, len(others)))

    return rank


def recent_ranker(corpus: Corpus) -> Ranker:
    return lambda row: [r for r in corpus.newest_first[: TOP + 1] if r != row][:TOP]


def jaccard_ranker(corpus: Corpus) -> Ranker:
    labels = sp.hstack([corpus.categories, corpus.tags]).tocsr()
    sizes = np.asarray(labels.sum(axis=1)).ravel()

    def rank(row: int) -> list[int]:
        shared = (labels[row] @ labels.T).toarray().ravel()
        union = sizes[row] + sizes - shared
        return corpus.top(row, np.divide(shared, union, out=np.zeros_like(shared), where=union > 0))

    return rank


def hugo_ranker(corpus: Corpus) -> Ranker:
    tags, categories = corpus.tags, corpus.categories

    def rank(row: int) -> list[int]:
        shared_tags = (tags[row] @ tags.T).toarray()
        shared_categories = (categories[row] @ categories.T).toarray()
        score = HUGO_WEIGHTS["tags"] * shared_tags + HUGO_WEIGHTS["categories"] * shared_categories
        return corpus.top(row, score)

    return rank


def tfidf_ranker(corpus: Corpus, build_dir: Path) -> Ranker:
    matrix = sp.load_npz(build_dir / "tfidf.npz").tocsr().astype(np.float64)
    if matrix.shape[0] != len(corpus.slugs):
        raise SystemExit(f"tfidf.npz has {matrix.shape[0]} rows, catalog {len(corpus.slugs)}")
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    matrix = sp.csr_matrix(sp.diags(1.0 / norms) @ matrix)
    matrix_t = matrix.T.tocsc()
    return lambda row: corpus.top(row, (matrix[row] @ matrix_t).toarray())


def plain_whoosh_index(corpus: Corpus, texts: list[str], out_dir: Path) -> Any:
    """A Whoosh index of every post's body text, for the more-like-this baseline."""
    out_dir.mkdir()
    schema = Schema(slug=ID(stored=True, unique=True), body=TEXT(analyzer=english_analyzer()))
    fulltext = whoosh_index.create_in(str(out_dir), schema)
    with fulltext.writer(limitmb=256) as writer:
        for record, text in zip(corpus.records, texts, strict=True):
            writer.add_document(slug=record["slug"], body=text)
    return fulltext


def body_texts(build_dir: Path, corpus: Corpus) -> list[str]:
    """Each post's body text from the build (title and excerpt when the body is empty)."""
    store = BlobStore(build_dir, TEXTS)
    try:
        return [
            store.get(row) or f"{record['title']}\n{record['excerpt']}"
            for row, record in enumerate(corpus.records)
        ]
    finally:
        store.close()


def whoosh_ranker(searcher: Any, corpus: Corpus, texts: list[str]) -> Ranker:
    """Whoosh more-like-this over the body field."""

    def rank(row: int) -> list[int]:
        hits = searcher.search(Term("slug", corpus.slugs[row]), limit=1)
        if not hits:
            return []
        similar = searcher.more_like(hits[0].docnum, "body", text=texts[row], top=TOP)
        return [corpus.row_of_slug[h["slug"]] for h in similar]

    return rank


def judge(
    rankers: dict[str, Ranker], corpus: Corpus, truth: dict[str, list[str]]
) -> tuple[dict[str, dict[str, float]], dict[str, float], dict[str, int]]:
    """Mean metrics per system, seconds per system, and how many posts were judged."""
    queries: list[tuple[int, set[int]]] = []
    counts = dict.fromkeys(
        ("truth_posts", "not_in_index", "empty_truth", "dropped_items", "judged", "judged_before"),
        0,
    )
    for name, picks in truth.items():
        counts["truth_posts"] += 1
        row = corpus.row_of_file.get(name, corpus.row_of_file.get(Path(name).name))
        if row is None:
            counts["not_in_index"] += 1
            continue
        wanted = {corpus.row_of_file[p] for p in picks if p in corpus.row_of_file} - {row}
        counts["dropped_items"] += len(set(picks)) - len(wanted)
        if not wanted:
            counts["empty_truth"] += 1
            continue
        queries.append((row, wanted))
    counts["judged"] = len(queries)
    results: dict[str, dict[str, float]] = {}
    seconds: dict[str, float] = {}
    for system, rank in rankers.items():
        sums = dict.fromkeys([*METRICS, *(f"{m}_before" for m in METRICS)], 0.0)
        judged_before = 0
        started = time.perf_counter()
        for row, wanted in queries:
            ranked = rank(row)
            for metric, value in scores_of(ranked, wanted).items():
                sums[metric] += value
            older = corpus.before(row)
            wanted_before = {r for r in wanted if older(r)}
            if wanted_before:
                judged_before += 1
                ranked_before = [r for r in ranked if older(r)]
                for metric, value in scores_of(ranked_before, wanted_before).items():
                    sums[f"{metric}_before"] += value
        seconds[system] = time.perf_counter() - started
        counts["judged_before"] = judged_before
        results[system] = {
            metric: total / max(1, judged_before if metric.endswith("_before") else len(queries))
            for metric, total in sums.items()
        }
    return results, seconds, counts


def run(posts: Path, truth_file: Path, strip: Sequence[str], seed: int) -> dict[str, Any]:
    """Copy, strip, build and judge; everything the table and the JSON line need."""
    truth = load_truth(truth_file)
    with tempfile.TemporaryDirectory(prefix="bench-related-") as tmp:
        copy, index_dir = Path(tmp) / "posts", Path(tmp) / "index"
        stripped, unchanged = copy_without_pins(posts, copy, {*PIN_FIELDS, *strip})
        started = time.perf_counter()
        result = build(copy, index_dir)
        build_s = time.perf_counter() - started
        build_dir = index_dir / "current"
        manifest = json.loads((build_dir / "manifest.json").read_text(encoding="utf-8"))
        corpus = Corpus(build_dir)
        settings = RelatedSettings(**manifest["settings"]["related"])
        texts = body_texts(build_dir, corpus)
        fulltext = plain_whoosh_index(corpus, texts, Path(tmp) / "whoosh")
        with Searcher(index_dir) as ours, fulltext.searcher() as whoosh:
            rankers = {
                "postsearch": postsearch_ranker(ours, corpus),
                "random": random_ranker(corpus, seed),
                "recent": recent_ranker(corpus),
                "jaccard": jaccard_ranker(corpus),
                "hugo": hugo_ranker(corpus),
                "tfidf": tfidf_ranker(corpus, build_dir),
                "whoosh_mlt": whoosh_ranker(whoosh, corpus, texts),
            }
            try:
                results, seconds, counts = judge(rankers, corpus, truth)
            except (PostNotFound, PostMoved) as error:
                raise SystemExit(f"related lookup failed: {error!r}") from None
        fulltext.close()
    related_s = manifest["timings_s"]["related"]
    return {
        "results": results,
        "seconds": seconds,
        "counts": counts,
        "files": result.files,
        "indexed": result.indexed,
        "stripped": stripped,
        "unchanged": unchanged,
        "build_s": build_s,
        "related_s": related_s,
        "related_s_per_1k": related_s / result.indexed * 1000,
        "informativeness": label_informativeness(corpus.records),
        "taxonomy_weight": taxonomy_weight(corpus.records, settings),
    }


def print_table(report: dict[str, Any]) -> None:
    metric_heads = ("R@5", "R@10", "MRR@10", "nDCG@10")
    print(f"{'':<12} {'all candidates':^35}  | {'published before the query post':^35}")
    heads = " ".join(f"{h:>8}" for h in metric_heads)
    print(f"{'system':<12} {heads}  | {heads} {'s':>6}")
    for system, values in report["results"].items():
        now = " ".join(f"{values[m]:>8.3f}" for m in METRICS)
        before = " ".join(f"{values[f'{m}_before']:>8.3f}" for m in METRICS)
        print(f"{system:<12} {now}  | {before} {report['seconds'][system]:>6.2f}")
    c = report["counts"]
    print(
        f"({c['judged']} posts judged, {c['judged_before']} with older picks; of "
        f"{c['truth_posts']} truth posts {c['not_in_index']} are not in the index and "
        f"{c['empty_truth']} have no indexed pick; {c['dropped_items']} picks dropped)"
    )
    print(
        f"(pin fields stripped from {report['stripped']} of "
        f"{report['stripped'] + report['unchanged']} posts; {report['indexed']} of "
        f"{report['files']} files indexed in {report['build_s']:.1f}s; related precompute "
        f"{report['related_s']:.3f}s = {report['related_s_per_1k']:.3f}s per 1k posts)"
    )
    print(
        f"(label informativeness {report['informativeness']:.3f}, so the taxonomy weight is "
        f"{report['taxonomy_weight']:.3f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=Path, required=True)
    parser.add_argument("--truth", type=Path, required=True)
    parser.add_argument("--strip-field", nargs="+", action="extend", default=[], metavar="NAME")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random baseline")
    parser.add_argument("--json", action="store_true", help="end with one JSON line of metrics")
    args = parser.parse_args()
    started = time.perf_counter()
    report = run(args.posts, args.truth, args.strip_field, args.seed)
    print_table(report)
    print(f"(run took {time.perf_counter() - started:.1f}s)")
    if args.json:
        rounded = {
            system: {metric: round(value, 4) for metric, value in values.items()}
            for system, values in report["results"].items()
        }
        print(json.dumps(rounded))


if __name__ == "__main__":
    main()
