"""Precompute every post's related posts: text similarity, shared labels, and time.

A candidate's score is `(text weight × TF-IDF cosine + taxonomy weight × label
overlap) × time prior`:

- The text part is the cosine of the build's TF-IDF rows after raising every weight
  to `text_power` (1.5), which lets a post's most characteristic words count for more.
- The taxonomy part adds up the labels two posts share (categories weighted by level,
  tags and keywords), each by its rarity, over sqrt(label counts); see
  `taxonomy_matrix`. Its weight adapts to the corpus: `taxonomy_scale` times how
  informative the corpus's labels are (`label_informativeness`), because a rich tag
  vocabulary predicts what authors link to and a few coarse categories do not.
- The time prior is `(1 + closeness_bonus · e^(−|gap| / closeness_days))`, times
  `1 − newer_discount` for a post published after this one: authors link to earlier
  posts, mostly from the months before.

The defaults were chosen by 5-fold cross-validation over the author-curated lists of
auth0 and the in-body links of digitalgov together (see the README). Lists are
computed in row blocks so memory stays bounded at tens of thousands of posts; editor
pins and excludes (`pins.py`) and near-duplicate filtering are applied here, so the
served lists are final apart from hiding scheduled posts.
"""

from __future__ import annotations

import datetime as dt
import math
import multiprocessing
import os
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from .duplicates import duplicates_by_row, find_near_duplicates
from .mapped import mapped_arrays
from .neighbours import CandidateSearch
from .pins import PinTable
from .tfidf import normalise_rows, strongest_terms
from .topn import COMPILED_FROM

RELATED_FILE = "related.npz"

# Above this many lists to compute, near-duplicates are found for all pairs at once.
PAIRWISE_FROM = 500
# From this many posts, a full build compares posts by their CANDIDATE_TERMS strongest
# terms only. Comparing whole vectors makes every pair of posts share some word: the
# product is dense and its cost grows with the square of the corpus (about 16 s of
# sparse products at 10k posts, over 8 minutes at 57k). With the strongest terms the
# product stays sparse. Measured on auth0 and digitalgov with every post compared this
# way: nDCG@10 0.470 and 0.509 (whole vectors: 0.471 and 0.508); 128 terms: 0.460, 0.499.
APPROXIMATE_FROM = 5_000
# From this many lists, two processes compute them (each list is independent).
PARALLEL_FROM = 4_000
CANDIDATE_TERMS = 256

LEVEL_WEIGHTS = {
    "niche": 1.0,
    "specific": 0.85,
    "exact": 0.8,
    "medium": 0.55,
    "unknown": 0.5,
    "general": 0.3,
    "tag": 0.6,
}
_LABEL_SEPARATORS = re.compile(r"[\s_\-]+")
_BLOCK_CELLS = 5_000_000
# Runs of rows per core when the lists are computed in several processes.
_RUNS_PER_CORE = 8


@dataclass(frozen=True)
class RelatedSettings:
    """How the related lists are scored; saved in the manifest with each build."""

    neighbours: int = 30
    text_power: float = 1.5
    taxonomy_scale: float = 0.8
    taxonomy_weight: float | None = None  # a fixed weight instead of the adaptive one
    closeness_bonus: float = 1.0
    closeness_days: float = 180.0
    newer_discount: float = 0.6
    duplicate_threshold: float = 0.85  # TF-IDF cosine from which two posts are near-duplicates
    level_weights: dict[str, float] = field(default_factory=lambda: dict(LEVEL_WEIGHTS))
    block_rows: int = 512


@dataclass
class RelatedLists:
    """Per post (row order of the catalog): pinned posts first, then the best neighbours.

    `neighbours` is -1 where a list is short; `pinned[i]` says how many of row i's first
    entries are editor pins. `time` is the prior factor the blended score was multiplied by.
    """

    neighbours: np.ndarray  # int32, N x K
    score: np.ndarray  # float32, N x K
    text: np.ndarray  # float32, N x K, the TF-IDF cosine part
    taxonomy: np.ndarray  # float32, N x K, the label-overlap part
    time: np.ndarray  # float32, N x K, the time prior factor
    pinned: np.ndarray  # int16, N

    def save(self, out_dir: Path) -> None:
        """Write the lists as one uncompressed `.npz` of plain numeric arrays."""
        np.savez(out_dir / RELATED_FILE, **self._arrays())

    def _arrays(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in _ARRAYS}

    @classmethod
    def load(cls, build_dir: Path) -> RelatedLists:
        """Load the lists, refusing any pickled object.

        Builds made before pins and the time prior existed lack `time` and `pinned`;
        they load as "no prior, no pins", so a build can be served (or rolled back to)
        until the next reindex rewrites it.
        """
        mapped = mapped_arrays(build_dir / RELATED_FILE)  # read-only, shared by workers
        arrays = {name: mapped[name] for name in _ARRAYS if name in mapped}
        shape = arrays["neighbours"].shape
        arrays.setdefault("time", np.ones(shape, dtype=np.float32))
        arrays.setdefault("pinned", np.zeros(shape[0], dtype=np.int16))
        return cls(**arrays)

    @classmethod
    def empty(cls, rows: int, width: int) -> RelatedLists:
        """Lists of `rows` posts with room for `width` entries each, all empty."""
        return cls(
            neighbours=np.full((rows, width), -1, dtype=np.int32),
            score=np.zeros((rows, width), dtype=np.float32),
            text=np.zeros((rows, width), dtype=np.float32),
            taxonomy=np.zeros((rows, width), dtype=np.float32),
            time=np.zeros((rows, width), dtype=np.float32),
            pinned=np.zeros(rows, dtype=np.int16),
        )

    def copy_rows(self, rows: np.ndarray, other: RelatedLists, other_rows: np.ndarray) -> None:
        """Set lists `rows` to `other`'s lists `other_rows`, in one step per array."""
        for name in _ARRAYS:
            getattr(self, name)[rows] = getattr(other, name)[other_rows]


_ARRAYS = ("neighbours", "score", "text", "taxonomy", "time", "pinned")

Record = Mapping[str, Any]  # a catalog record: slug, date, categories, tags, keywords


@lru_cache(maxsize=65_536)  # a blog has a few thousand labels, met on every post
def normalize_label(name: str) -> str:
    """Case-fold a label and treat hyphens, underscores and spaces alike.

    Real tag vocabularies spell one tag several ways (`single-sign-on`, `single sign on`).
    """
    return _LABEL_SEPARATORS.sub(" ", name.casefold()).strip()


def label_keys(record: Record) -> list[tuple[str, str]]:
    """A post's labels as (key, level) pairs: one per category, one per tag or keyword."""
    keys = [(f"c:{normalize_label(c['name'])}", c["level"]) for c in record["categories"]]
    names = dict.fromkeys(normalize_label(n) for n in (*record["tags"], *record["keywords"]))
    keys += [(f"t:{name}", "tag") for name in names if name]
    return keys


# Each post's label_keys, when a caller has them already (they are the same for the
# taxonomy matrix, its weight and the label counts: computed once per build).
LabelKeys = Sequence[list[tuple[str, str]]]


def corpus_label_keys(records: Sequence[Record]) -> list[list[tuple[str, str]]]:
    """Every post's label keys, in order (see label_keys)."""
    return [label_keys(record) for record in records]


def label_counts(records: Sequence[Record], keys: LabelKeys | None = None) -> Counter[str]:
    """How many posts carry each label key."""
    keys = keys if keys is not None else corpus_label_keys(records)
    return Counter(key for pairs in keys for key in {k for k, _ in pairs})


def label_informativeness(
    records: Sequence[Record], keys: LabelKeys | None = None, counts: Counter[str] | None = None
) -> float:
    """How much a typical label tells about a post, in [0, 1].

    The mean, over posts with labels, of their labels' mean rarity log(N/df)/log(N):
    0.62 on auth0 (1,700 specific categories and tags), 0.30 on digitalgov (57 broad
    topics), 0.26 for six equally used categories on 1,000 posts.
    """
    keys = keys if keys is not None else corpus_label_keys(records)
    counts = counts if counts is not None else label_counts(records, keys)
    total = len(records)
    if total < 2 or not counts:
        return 0.0
    scale = math.log(total)
    means = []
    for pairs in keys:
        found = {k for k, _ in pairs}
        if found:
            means.append(sum(math.log(total / counts[k]) for k in found) / (len(found) * scale))
    return float(np.mean(means)) if means else 0.0


def taxonomy_weight(
    records: Sequence[Record],
    settings: RelatedSettings,
    keys: LabelKeys | None = None,
    counts: Counter[str] | None = None,
) -> float:
    """The weight of the taxonomy part for this corpus (the text part gets the rest)."""
    if settings.taxonomy_weight is not None:
        return min(1.0, max(0.0, settings.taxonomy_weight))
    informativeness = label_informativeness(records, keys, counts)
    return min(1.0, max(0.0, settings.taxonomy_scale * informativeness))


def taxonomy_matrix(
    records: Sequence[Record],
    settings: RelatedSettings,
    counts: Counter[str] | None = None,
    total: int | None = None,
    keys: LabelKeys | None = None,
) -> sp.csr_matrix:
    """Label rows whose dot product is the taxonomy similarity of two posts.

    A shared label scores its level weight times its rarity, log(N / df) / log(N), so
    a label on every post counts 0 and one on two posts nearly 1; the sum is divided by
    sqrt(labels of one post × labels of the other), keeping the score in [0, 1]. Unlike
    a cosine, two posts sharing only one broad label do not score 1 (measured on
    digitalgov, where most posts carry one broad topic: nDCG@10 0.259 with a cosine,
    0.391 with this, 0.389 for TF-IDF alone). With `counts` and `total` (a corpus's label
    counts and size) the rows use that corpus's columns and rarities: how a draft that is
    not part of the corpus is scored against it.
    """
    keys = keys if keys is not None else corpus_label_keys(records)
    counts = counts if counts is not None else label_counts(records, keys)
    total = max(2, total if total is not None else len(records))
    scale = math.log(total)
    ordered = sorted(counts)
    columns = {key: i for i, key in enumerate(ordered)}
    rarity = np.array([max(0.0, math.log(total / counts[key])) / scale for key in ordered])
    # One entry per (post, known label, level), weighed in numpy: per label in Python,
    # this was a tenth of an incremental build at 10k posts.
    level_weights = settings.level_weights
    rows, cols, levels = [], [], []
    for row, pairs in enumerate(keys):
        for key, level in pairs:
            col = columns.get(key)
            if col is not None:
                rows.append(row)
                cols.append(col)
                levels.append(level_weights.get(level, 0.5))
    # Labels unknown to the corpus still count in a post's size.
    sizes = np.array([len({key for key, _ in pairs}) for pairs in keys], dtype=np.float64)
    row_of, col_of = np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64)
    weights = np.array(levels, dtype=np.float64) * rarity[col_of]
    # A label given at two levels counts once, at its best weight.
    order = np.lexsort((-weights, col_of, row_of))
    first = np.ones(order.size, dtype=bool)
    first[1:] = (np.diff(row_of[order]) != 0) | (np.diff(col_of[order]) != 0)
    best = order[first]
    values = np.sqrt(weights[best] / sizes[row_of[best]])
    return sp.csr_matrix(
        (values, (row_of[best], col_of[best])),
        shape=(len(records), max(1, len(columns))),
        dtype=np.float32,
    )


def sharpen(text_matrix: sp.csr_matrix, power: float) -> sp.csr_matrix:
    """TF-IDF rows with every weight raised to `power`, L2-normalised again.

    The result shares `text_matrix`'s index arrays (only the weights are new), and the
    default power 1.5 is taken as x * sqrt(x): float32 `pow` is several times slower,
    and this ran over every weight of the corpus in every build (0.5-1.2 s against
    0.13-0.47 s at 57k posts; the two differ by at most one unit in the last place).
    """
    text_matrix = text_matrix.tocsr()
    weights = np.asarray(text_matrix.data, dtype=np.float32)
    if power == 1.5:
        weights = weights * np.sqrt(weights)
    elif power == 1.0:
        weights = weights.copy()
    else:
        weights = np.power(weights, np.float32(power))
    matrix = sp.csr_matrix(
        (weights, text_matrix.indices, text_matrix.indptr), shape=text_matrix.shape
    )
    if not weights.all():  # a zero weight (underflow): drop it from a copy of the indices
        matrix = sp.csr_matrix(matrix, copy=True)
        matrix.eliminate_zeros()
    normalise_rows(matrix)  # in place: the weights are this matrix's own
    return matrix


def publication_days(records: Sequence[Record]) -> np.ndarray:
    """Each post's date in days since 1970 (NaN when undated)."""
    days = [
        dt.datetime.fromisoformat(r["date"]).timestamp() / 86400 if r.get("date") else np.nan
        for r in records
    ]
    return np.asarray(days, dtype=np.float64)


def time_prior(
    source_day: float | np.ndarray, days: np.ndarray, settings: RelatedSettings
) -> np.ndarray:
    """The prior factor of posts published on `days` as related posts of one published
    on `source_day` (arrays broadcast).

    1 when either date is unknown; otherwise a bonus for posts close in time, fading
    with the gap, times a discount for posts published later than the source. Computed
    in place in float32: a full build evaluates it for every pair of posts.
    """
    gap = np.subtract(source_day, days, dtype=np.float32)  # > 0: the candidate is older
    prior = np.abs(gap)
    prior *= np.float32(-1.0 / max(settings.closeness_days, 1e-9))
    np.exp(prior, out=prior)
    prior *= np.float32(settings.closeness_bonus)
    prior += np.float32(1.0)
    prior[gap < 0] *= np.float32(1.0 - settings.newer_discount)
    prior[np.isnan(gap)] = 1.0
    return prior


def compute_related(
    records: Sequence[Record],
    text_matrix: sp.csr_matrix,
    settings: RelatedSettings | None = None,
    on_rows: Callable[[int], None] | None = None,
    rows: Sequence[int] | None = None,
    scorer: PairScorer | None = None,
    pins: PinTable | None = None,
) -> RelatedLists:
    """Score posts against every other post and keep each one's pins and top neighbours.

    With `rows`, only those posts' lists are computed (in that order). Excluded posts
    never appear, a post that is a near-duplicate of one already listed is skipped, and
    ties break on slug so lists do not change between identical builds.
    """
    settings = settings or RelatedSettings()
    scorer = scorer or PairScorer(records, text_matrix, settings)
    pins = pins or PinTable.empty(len(records))
    rows = list(range(len(records))) if rows is None else list(rows)
    if len(rows) > PAIRWISE_FROM:
        scorer.find_all_duplicates()  # many lists: one pass over all pairs is cheaper
    scorer.search_candidates_when_large()
    if len(rows) * len(records) >= COMPILED_FROM:
        scorer.compile_search()  # before the lists' processes fork: loaded once
    k = min(settings.neighbours, max(0, len(records) - 1))
    # Each block holds four dense float arrays of block x N: keep them near 40 MB each.
    block_rows = max(16, min(settings.block_rows, _BLOCK_CELLS // max(1, len(records))))
    job = _ListsJob(scorer, pins, rows, k, block_rows)
    cores = min(2, os.cpu_count() or 1)
    if cores < 2 or len(rows) < PARALLEL_FROM:
        return job.run(0, len(rows), on_rows)
    # Lists are independent: the cores take runs of rows in turn. Forked workers share
    # the scorer's matrices with this process (no copy, nothing pickled on the way in).
    # Runs, not halves: a full build writes its full-text index beside this step, and
    # whichever worker shares its core with it would finish late while the other idled.
    global _FORKED_JOB
    _FORKED_JOB = job
    try:
        run = -(-len(rows) // (cores * _RUNS_PER_CORE))
        spans = [(start, min(len(rows), start + run)) for start in range(0, len(rows), run)]
        with multiprocessing.get_context("fork").Pool(cores) as pool:
            parts = []
            for part in pool.imap(_run_forked_job, spans):
                parts.append(part)
                if on_rows is not None:
                    on_rows(len(part.neighbours))
    finally:
        _FORKED_JOB = None
    return RelatedLists(
        **{name: np.concatenate([getattr(p, name) for p in parts]) for name in _ARRAYS}
    )


@dataclass
class _ListsJob:
    """Computing the lists of `rows`, in blocks."""

    scorer: PairScorer
    pins: PinTable
    rows: list[int]
    k: int
    block_rows: int

    def run(
        self, first: int, stop: int, on_rows: Callable[[int], None] | None = None
    ) -> RelatedLists:
        """The lists of rows[first:stop]."""
        out = RelatedLists.empty(stop - first, self.k + self.pins.width)
        for start in range(first, stop, self.block_rows):
            block = self.rows[start : min(stop, start + self.block_rows)]
            # Extra candidates replace skipped duplicates, excluded and pinned posts.
            wanted = [
                self.k + 8 + len(self.pins.pins[r]) + len(self.pins.excludes[r]) for r in block
            ]
            found = self.scorer.candidates(block, wanted, [self.pins.pins[r] for r in block])
            for offset, (row, candidates) in enumerate(zip(block, found, strict=True)):
                chosen = _choose(self.scorer, candidates, self.pins, row, self.k)
                pinned = len(self.pins.pins[row])
                _store(out, start - first + offset, candidates, chosen, pinned)
            if on_rows is not None:
                on_rows(len(block))
        return out


_FORKED_JOB: _ListsJob | None = None


def _run_forked_job(span: tuple[int, int]) -> RelatedLists:
    assert _FORKED_JOB is not None, "runs only in a worker forked by compute_related"
    return _FORKED_JOB.run(*span)


@dataclass
class ScoreParts:
    """Similarities of a block of posts to every post: blended, text, taxonomy, time."""

    combined: np.ndarray
    text: np.ndarray
    taxonomy: np.ndarray
    time: np.ndarray


@dataclass
class Candidates:
    """One post's candidate related posts and their score parts (aligned arrays)."""

    columns: np.ndarray  # int64 rows of the corpus
    combined: np.ndarray
    text: np.ndarray
    taxonomy: np.ndarray
    time: np.ndarray

    def parts_of(self, chosen: Sequence[int]) -> tuple[np.ndarray, ...]:
        """(combined, text, taxonomy, time) of chosen columns, all among the candidates."""
        position = dict(zip(self.columns.tolist(), range(self.columns.size), strict=True))
        at = np.fromiter(map(position.__getitem__, chosen), dtype=np.int64, count=len(chosen))
        return self.combined[at], self.text[at], self.taxonomy[at], self.time[at]


class PairScorer:
    """Blended similarity of chosen posts against all posts (self scored -inf)."""

    def __init__(
        self, records: Sequence[Record], text_matrix: sp.csr_matrix, settings: RelatedSettings
    ) -> None:
        self.settings = settings
        self.text = sharpen(text_matrix, settings.text_power)
        self.raw_text = sp.csr_matrix(text_matrix, dtype=np.float32)
        self._duplicates: list[set[int]] | None = None
        keys = corpus_label_keys(records)
        counts = label_counts(records, keys)
        self.labels = taxonomy_matrix(records, settings, counts, keys=keys)
        self.taxonomy_weight = taxonomy_weight(records, settings, keys, counts)
        self.days = publication_days(records)
        self._transposed: tuple[sp.csc_matrix, sp.csc_matrix] | None = None
        self._search: CandidateSearch | None = None
        self.slug_rank = np.argsort(np.argsort([r["slug"] for r in records], kind="stable"))

    def search_candidates_when_large(self) -> None:
        """From APPROXIMATE_FROM posts on, find each list's candidates with top-n
        products over each post's CANDIDATE_TERMS strongest weights instead of scoring
        every pair (see neighbours.py), in full and incremental builds alike. The rows
        are not normalised again: a cosine over the strongest terms is a slight
        underestimate of the whole one."""
        if self._search is not None or self.text.shape[0] < APPROXIMATE_FROM:
            return
        self._search = CandidateSearch(
            strongest_terms(self.text, CANDIDATE_TERMS),
            self.labels,
            self.taxonomy_weight,
            self.days,
            self.settings.closeness_days,
        )

    def compile_search(self) -> None:
        """Search candidates (if this corpus does) with the compiled loops (topn.py)."""
        if self._search is not None:
            self._search.compile()

    def scores(self, rows: Sequence[int]) -> ScoreParts:
        """The score parts of `rows` against every post, as dense arrays."""
        rows = list(rows)
        text_t, labels_t = self._columns()
        text_sim = (self.text[rows] @ text_t).toarray()
        label_sim = (self.labels[rows] @ labels_t).toarray()
        prior = time_prior(self.days[rows][:, None], self.days[None, :], self.settings)
        combined = self.blend(text_sim, label_sim) * prior
        combined[np.arange(len(rows)), rows] = -np.inf  # never related to itself
        return ScoreParts(combined, text_sim, label_sim, prior)

    def _columns(self) -> tuple[sp.csc_matrix, sp.csc_matrix]:
        """The text and label matrices transposed (made on first use: large corpora
        search candidates instead and never need them)."""
        if self._transposed is None:
            self._transposed = (self.text.T.tocsc(), self.labels.T.tocsc())
        return self._transposed

    def candidates(
        self, rows: Sequence[int], wanted: Sequence[int], required: Sequence[Sequence[int]]
    ) -> list[Candidates]:
        """Per row, at least its `wanted` best-scored posts (when that many share anything
        with it) and every post of `required` (its pins), with their score parts."""
        if self._search is not None:
            return self._searched_candidates(rows, wanted, required)
        parts = self.scores(rows)
        out = []
        for offset, (take, extra) in enumerate(zip(wanted, required, strict=True)):
            scores = parts.combined[offset]
            take = min(take, len(scores))
            best = np.argpartition(-scores, take - 1)[:take] if take else np.zeros(0, np.int64)
            columns = np.union1d(best, np.asarray(extra, dtype=np.int64)).astype(np.int64)
            out.append(
                Candidates(
                    columns,
                    scores[columns],
                    parts.text[offset, columns],
                    parts.taxonomy[offset, columns],
                    parts.time[offset, columns],
                )
            )
        return out

    def _searched_candidates(
        self, rows: Sequence[int], wanted: Sequence[int], required: Sequence[Sequence[int]]
    ) -> list[Candidates]:
        assert self._search is not None
        found = self._search.matches(rows, max(wanted, default=0))
        columns, blends = [], []
        for row, matches, extra in zip(rows, found, required, strict=True):
            found_columns = set(matches.columns.tolist())
            missing = [c for c in extra if c not in found_columns]
            columns.append(np.concatenate([matches.columns, np.asarray(missing, np.int64)]))
            blends.append(np.concatenate([matches.blend, self._search.blend(row, missing)]))
        sources = np.repeat(np.asarray(rows, dtype=np.int64), [len(c) for c in columns])
        targets = np.concatenate(columns) if columns else np.zeros(0, np.int64)
        # The label part exactly (a few labels per post, one elementwise product for the
        # block); the text part is what remains of the blend.
        label_sim = np.asarray(
            self.labels[sources].multiply(self.labels[targets]).sum(axis=1), dtype=np.float32
        ).ravel()
        weight = self.taxonomy_weight
        blend = np.concatenate(blends).astype(np.float32) if blends else np.zeros(0, np.float32)
        if weight < 1.0:
            text_sim = np.maximum((blend - weight * label_sim) / (1.0 - weight), 0.0)
        else:  # text has no weight and was not compared
            text_sim = np.zeros_like(blend)
        prior = time_prior(self.days[sources], self.days[targets], self.settings)
        combined = self.blend(text_sim, label_sim) * prior
        out, start = [], 0
        for row_columns in columns:
            span = slice(start, start + len(row_columns))
            out.append(
                Candidates(
                    row_columns, combined[span], text_sim[span], label_sim[span], prior[span]
                )
            )
            start = span.stop
        return out

    def incoming(self, rows: Sequence[int]) -> np.ndarray:
        """How `rows` would score in every post's list: entry [i, j] is row i's score as a
        candidate for post j (the time prior is seen from post j). Scored like the lists
        are: over the strongest terms once candidates are searched."""
        rows = list(rows)
        if self._search is not None:
            vectors = self._search.vectors
            blend = (vectors[rows] @ vectors.T).toarray()
        else:
            text_t, labels_t = self._columns()
            text_sim = (self.text[rows] @ text_t).toarray()
            blend = self.blend(text_sim, (self.labels[rows] @ labels_t).toarray())
        prior = time_prior(self.days[None, :], self.days[rows][:, None], self.settings)
        scores = blend * prior
        scores[np.arange(len(rows)), rows] = -np.inf
        return scores

    def blend(self, text_sim: np.ndarray, label_sim: np.ndarray) -> np.ndarray:
        """Text and taxonomy similarity mixed by this corpus's taxonomy weight."""
        weight = self.taxonomy_weight
        return (1.0 - weight) * text_sim + weight * label_sim

    def find_all_duplicates(self) -> None:
        """Find every near-duplicate pair of the corpus once (for a full build)."""
        threshold = self.settings.duplicate_threshold
        pairs = (
            find_near_duplicates(self.raw_text, threshold, exhaustive=False)
            if threshold <= 1.0
            else []
        )
        self._duplicates = duplicates_by_row(pairs, self.raw_text.shape[0])

    def near_duplicates(self, rows: Sequence[int]) -> np.ndarray:
        """Boolean matrix: entry [i, j] is True when rows[i] and rows[j] are near-duplicates
        (TF-IDF cosine ≥ duplicate_threshold, as `postsearch duplicates` finds them).

        After `find_all_duplicates` (full builds) a table look-up; otherwise one small
        product per list: an incremental build that recomputed 28 lists of 10k posts
        spent 16 of its 29 s finding every pair first, while 10k small products take
        ~20 s, more than the one pass over all pairs.
        """
        rows = list(rows)
        threshold = self.settings.duplicate_threshold
        if threshold > 1.0 or len(rows) < 2:
            return np.zeros((len(rows), len(rows)), dtype=bool)
        if self._duplicates is not None:
            similar = np.zeros((len(rows), len(rows)), dtype=bool)
            for i, row in enumerate(rows):
                if twins := self._duplicates[row]:  # most posts have none
                    similar[i] = [other in twins for other in rows]
            return similar
        block = self.raw_text[rows]
        similar = (block @ block.T).toarray() >= threshold - 1e-6  # float32 cosines of
        np.fill_diagonal(similar, False)  # identical rows can land a hair under 1.0
        return similar


def _choose(
    scorer: PairScorer, candidates: Candidates, pins: PinTable, row: int, k: int
) -> list[int]:
    """Row's pins in order, then up to k best candidates: scored > 0, not excluded, not
    pinned, and no near-duplicate of a post already in the list."""
    pinned = list(pins.pins[row])
    if k == 0:
        return pinned
    blocked = set(pins.excludes[row]) | set(pinned) | {row}
    scores, columns = candidates.combined, candidates.columns
    positive = scores > 0  # nothing in common: not related
    columns, scores = columns[positive], scores[positive]
    # Ties at the cut-off are settled by slug, so identical builds give identical lists.
    order = np.lexsort((scorer.slug_rank[columns], -np.round(scores, 6)))
    ranked = islice((c for c in columns[order].tolist() if c not in blocked), k + 8)
    pool = pinned + list(ranked)  # 8 more than k: room to replace near-duplicates
    similar = scorer.near_duplicates(pool)
    if not similar.any():  # the usual case: the first k after the pins
        return pool[: len(pinned) + k]
    kept = list(range(len(pinned)))  # positions in `pool` of what the list holds
    for position in range(len(pinned), len(pool)):
        if similar[position, kept].any():
            continue
        kept.append(position)
        if len(kept) - len(pinned) == k:
            break
    return [pool[position] for position in kept]


def _store(
    out: RelatedLists, i: int, candidates: Candidates, chosen: list[int], pinned: int
) -> None:
    width = len(chosen)
    out.pinned[i] = pinned
    if not width:
        return
    combined, text, taxonomy, time = candidates.parts_of(chosen)
    out.neighbours[i, :width] = chosen
    out.score[i, :width] = np.maximum(combined, 0.0)
    out.text[i, :width] = text
    out.taxonomy[i, :width] = taxonomy
    out.time[i, :width] = time
