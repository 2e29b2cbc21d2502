"""Which posts carry each facet value (category, tag, author, year), numbered per build.

Every worker needs, for each facet, its values and the posts carrying each. Numbering
the 444k labels of a 57k-post build in Python took a worker 0.7 s of the 2.4 s it
spent opening the build, and after every reindex each worker's requests wait for that
open. The build numbers them once (`facets.npz`, `facets.json`) and workers map the
arrays. For builds made before these files, or numbered another way (FACETS_VERSION),
a worker numbers them from the summary columns with the same function.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from .mapped import mapped_arrays
from .schema import facet_key

FACETS = ("categories", "tags", "authors", "years")
FACETS_FILE = "facets.npz"
FACETS_VOCAB_FILE = "facets.json"
# The summary columns the facets are numbered from (see `facets_of`).
FACET_COLUMNS = ("categories", "tags", "keywords", "authors", "date")
# How values are numbered: raise it whenever `facets_of` changes what it makes, so that
# neither a worker nor an incremental build takes files numbered the old way.
FACETS_VERSION = 1


@dataclass
class FacetValues:
    """One facet's values: their keys (in order of first use), each one's display name
    (its most used spelling) and the posts carrying it (values x posts, ones)."""

    keys: list[str]
    names: list[str]
    posts: sp.csr_matrix  # at least one row, so an empty facet still multiplies


@dataclass
class BuildFacets:
    """Every facet of a build, and each category key's most used level."""

    facets: dict[str, FacetValues]
    levels: dict[str, str]


def publication_times(dates: Sequence[str | None]) -> list[dt.datetime | None]:
    """The summary's `date` column as times (None for an undated post)."""
    return [dt.datetime.fromisoformat(value) if value else None for value in dates]


def facets_of(summary: Mapping[str, list[Any]], dates: Sequence[dt.datetime | None]) -> BuildFacets:
    """Number the facet values of a build's summary columns; `dates` are the posts'
    publication times (see `publication_times`)."""
    tags = zip(summary["tags"], summary["keywords"], strict=True)
    posts = len(dates)
    facets = {
        "categories": facet_values(
            [[n for n, _ in pairs] for pairs in summary["categories"]], posts
        ),
        "tags": facet_values([[*t, *k] for t, k in tags], posts),
        "authors": facet_values(summary["authors"], posts),
        "years": facet_values([[year] if year else [] for year in _years(dates)], posts, str),
    }
    return BuildFacets(facets, _dominant_levels(summary["categories"]))


def facet_values(
    labels: Sequence[Sequence[str]], posts: int, normalise: Callable[[str], str] = facet_key
) -> FacetValues:
    """One facet from each post's value names; `normalise` turns a name into its key.

    A post's names count once per key (its last spelling). They are laid end to end
    and numbered in bulk (`dict`, `zip`, `chain`, `Counter` and `map` loop in C).
    """
    per_post = [dict(zip(map(normalise, row), row, strict=True)) for row in labels]
    keys = list(chain.from_iterable(per_post))
    names = list(chain.from_iterable(pairs.values() for pairs in per_post))
    column = {key: number for number, key in enumerate(dict.fromkeys(keys))}
    spellings = Counter(zip(keys, names, strict=True))  # (key, name) -> posts
    spelt = _most_common_per_key(spellings)
    rows = np.repeat(np.arange(len(per_post), dtype=np.int64), list(map(len, per_post)))
    cols = np.fromiter(map(column.__getitem__, keys), dtype=np.int64, count=len(keys))
    matrix = sp.csr_matrix(
        (np.ones(len(keys), np.float32), (rows, cols)), shape=(posts, max(1, len(column)))
    )
    return FacetValues(list(column), [spelt[key] for key in column], matrix.T.tocsr())


def write_facets(
    out_dir: Path,
    summary: Mapping[str, list[Any]],
    previous: tuple[Path, Mapping[str, list[Any]]] | None = None,
) -> None:
    """Number the facets of a build's summary into `out_dir`. With `previous` (the build
    an incremental build started from, and its summary), when no post's labels or date
    changed and none was added or removed (an edit of a post's text: most reindexes),
    its files are linked instead (0.6-0.8 s of numbering at 57k posts)."""
    if previous is not None:
        build_dir, summary_before = previous
        same = all(summary_before.get(name) == summary[name] for name in FACET_COLUMNS)
        if (
            same
            and _numbered_version(build_dir) == FACETS_VERSION
            and _link_files(build_dir, out_dir, (FACETS_FILE, FACETS_VOCAB_FILE))
        ):
            return
    save_facets(out_dir, facets_of(summary, publication_times(summary["date"])))


def _link_files(source: Path, target: Path, names: Sequence[str]) -> bool:
    """Hard-link the named files of `source` into `target`; False (and nothing linked)
    when one is missing (a build made before them) or cannot be linked."""
    try:
        for name in names:
            os.link(source / name, target / name)
    except OSError:
        for name in names:
            (target / name).unlink(missing_ok=True)
        return False
    return True


def save_facets(out_dir: Path, facets: BuildFacets) -> None:
    """Write `facets.npz` (each facet's row pointers and post numbers, uncompressed so
    workers map them) and `facets.json` (keys, names, category levels)."""
    arrays = {}
    for name, values in facets.facets.items():
        arrays[f"{name}_indptr"] = values.posts.indptr.astype(np.int64)
        arrays[f"{name}_indices"] = values.posts.indices.astype(np.int32)
        arrays[f"{name}_shape"] = np.array(values.posts.shape, dtype=np.int64)
    np.savez(out_dir / FACETS_FILE, **arrays)
    vocabulary = {
        "version": FACETS_VERSION,
        "facets": {
            name: {"keys": values.keys, "names": values.names}
            for name, values in facets.facets.items()
        },
        "levels": facets.levels,
    }
    (out_dir / FACETS_VOCAB_FILE).write_text(json.dumps(vocabulary), encoding="utf-8")


def load_facets(build_dir: Path) -> BuildFacets | None:
    """The facets a build numbered (see `save_facets`); None for builds made before
    them, or numbered another way (FACETS_VERSION). The post numbers stay mapped:
    workers share them in the page cache."""
    vocabulary = _vocabulary(build_dir)
    if vocabulary is None or _version_of(vocabulary) != FACETS_VERSION:
        return None
    arrays = mapped_arrays(build_dir / FACETS_FILE)
    facets = {}
    for name in FACETS:
        shape = tuple(int(x) for x in arrays[f"{name}_shape"])
        indices, indptr = arrays[f"{name}_indices"], np.asarray(arrays[f"{name}_indptr"])
        if indptr.size and int(indptr[-1]) <= np.iinfo(indices.dtype).max:
            indptr = indptr.astype(indices.dtype)  # so scipy keeps the mapped indices
        ones = np.ones(indices.shape[0], dtype=np.float32)
        posts = sp.csr_matrix((ones, indices, indptr), shape=shape, copy=False)
        entry = vocabulary["facets"][name]
        facets[name] = FacetValues(entry["keys"], entry["names"], posts)
    return BuildFacets(facets, vocabulary["levels"])


def _vocabulary(build_dir: Path) -> dict[str, Any] | None:
    path = build_dir / FACETS_VOCAB_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _numbered_version(build_dir: Path) -> int | None:
    vocabulary = _vocabulary(build_dir)
    return None if vocabulary is None else _version_of(vocabulary)


def _version_of(vocabulary: Mapping[str, Any]) -> int:
    return vocabulary.get("version", 1)  # the first files had no version: they are 1


def _years(dates: Sequence[dt.datetime | None]) -> list[str | None]:
    """Each date's year as `strftime("%Y")` writes it (once per distinct year)."""
    written: dict[int, str] = {}
    return [
        (written.get(d.year) or written.setdefault(d.year, d.strftime("%Y"))) if d else None
        for d in dates
    ]


def _dominant_levels(categories: Sequence[Sequence[Sequence[str]]]) -> dict[str, str]:
    """The level each category is most often given (a name can sit at several levels)."""
    levels: Counter[tuple[str, str]] = Counter(
        (facet_key(name), level) for pairs in categories for name, level in pairs
    )
    return _most_common_per_key(levels)


def _most_common_per_key(counts: Counter[tuple[str, str]]) -> dict[str, str]:
    """For each key, its most counted value; the first counted among equals (as
    `Counter.most_common` breaks ties). One counter of pairs, not one per key: at 57k
    posts a worker opening a build made 670k counters."""
    best: dict[str, tuple[int, str]] = {}
    for (key, value), count in counts.items():  # in the order first counted
        if key not in best or count > best[key][0]:
            best[key] = (count, value)
    return {key: value for key, (_, value) in best.items()}
