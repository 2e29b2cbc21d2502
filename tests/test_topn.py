"""The compiled top-n products that find related candidates, against plain products."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from index.topn import top_matches


@pytest.fixture(params=[True, False], ids=["compiled", "products"])
def compiled(request: pytest.FixtureRequest) -> bool:
    """Each test runs over both ways of searching: compiled loops, scipy's products."""
    return request.param


def _expected(scores: np.ndarray, allowed: np.ndarray, n: int) -> list[int]:
    """The best n positive, allowed columns; ties to the lower column."""
    order = np.lexsort((np.arange(scores.size), -scores))
    return [int(c) for c in order if scores[c] > 0 and allowed[c]][:n]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_best_products_and_band_equal_sorting_every_product(seed: int, compiled: bool) -> None:
    rng = np.random.default_rng(seed)
    corpus = sp.random(400, 300, density=0.03, random_state=rng, dtype=np.float32).tocsr()
    days = rng.uniform(0, 2000, 400)
    days[::9] = np.nan  # undated posts are in no band
    rows = rng.choice(400, size=60, replace=False)
    found = top_matches(
        corpus[rows], corpus.T.tocsr(), 12, days, days[rows], 150.0, 7, compiled=compiled
    )
    products = (corpus[rows] @ corpus.T).toarray()
    everywhere = np.ones(400, dtype=bool)
    for i, row in enumerate(rows):
        best = _expected(products[i], everywhere, 12)
        assert found.columns[i].tolist() == best + [-1] * (12 - len(best))
        assert np.allclose(found.values[i, : len(best)], products[i, best], atol=1e-6)
        assert (found.values[i, len(best) :] == 0).all()
        near = np.abs(days - days[row]) <= 150.0  # all False for an undated row
        band = _expected(products[i], near, 7)
        assert found.band_columns[i].tolist() == band + [-1] * (7 - len(band))


def test_ties_keep_the_lower_column_and_sizes_are_capped_by_the_corpus(compiled: bool) -> None:
    corpus = sp.csr_matrix(np.array([[1, 0], [1, 0], [1, 0], [0, 1], [1, 0]], np.float32))
    found = top_matches(corpus[[0]], corpus.T.tocsr(), 2, compiled=compiled)
    assert found.columns.tolist() == [[0, 1]]  # four equal products: the lowest two
    every = top_matches(corpus[[0, 3]], corpus.T.tocsr(), 50, compiled=compiled)
    assert every.columns.shape == (2, 5)  # more than the corpus: the corpus
    assert every.columns.tolist() == [[0, 1, 2, 4, -1], [3, -1, -1, -1, -1]]
    assert every.band_columns.shape == (2, 0)  # no days: no band


def test_many_ties_past_the_room_keep_the_lowest_columns(compiled: bool) -> None:
    """Far more equal products than the compiled loop holds before cutting back to the
    best (see topn_compiled): every cut keeps the lowest columns of a tie."""
    rng = np.random.default_rng(11)
    corpus = sp.csr_matrix(rng.integers(0, 3, (900, 6)).astype(np.float32))
    days = rng.uniform(0, 100, 900)
    rows = rng.choice(900, size=40, replace=False)
    found = top_matches(
        corpus[rows], corpus.T.tocsr(), 5, days, days[rows], 30.0, 3, compiled=compiled
    )
    products = (corpus[rows] @ corpus.T).toarray()
    for i, row in enumerate(rows):
        best = _expected(products[i], np.ones(900, dtype=bool), 5)
        assert found.columns[i].tolist() == best + [-1] * (5 - len(best))
        near = np.abs(days - days[row]) <= 30.0
        band = _expected(products[i], near, 3)
        assert found.band_columns[i].tolist() == band + [-1] * (3 - len(band))


def test_an_empty_row_finds_nothing(compiled: bool) -> None:
    corpus = sp.csr_matrix(np.array([[0, 0], [1, 0]], np.float32))
    found = top_matches(
        corpus[[0]], corpus.T.tocsr(), 3, np.zeros(2), np.zeros(1), 10.0, 2, compiled=compiled
    )
    assert found.columns.tolist() == [[-1, -1]]
    assert found.band_columns.tolist() == [[-1, -1]]
    assert not found.values.any() and not found.band_values.any()


def test_compiled_loops_and_products_give_the_same_sums() -> None:
    """Both ways add a row's float32 products in the same order: an incremental build
    (few rows, scipy) finds exactly what a full build (compiled) would."""
    rng = np.random.default_rng(5)
    corpus = sp.random(2000, 800, density=0.05, random_state=rng, dtype=np.float32).tocsr()
    days = rng.uniform(0, 3000, 2000)
    rows = corpus[rng.choice(2000, size=300, replace=False)]
    arguments = (rows, corpus.T.tocsr(), 40, days, days[:300], 200.0, 20)
    compiled = top_matches(*arguments, compiled=True)
    products = top_matches(*arguments, compiled=False)
    for name in compiled._fields:
        assert np.array_equal(getattr(compiled, name), getattr(products, name)), name
