"""TF-IDF vectors of the posts, saved as `.npz` + JSON (never pickle).

The matrix rows follow the order of `posts.json`; the vocabulary and IDF are saved
so the vectorizer can be rebuilt at serve time (e.g. to vectorize a draft).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from .posts import Post

MATRIX_FILE = "tfidf.npz"
VOCAB_FILE = "tfidf.json"

_VECTORIZER_PARAMS = {
    "sublinear_tf": True,
    "strip_accents": "unicode",
    "lowercase": True,
    "stop_words": "english",
    "max_df": 0.5,
    "dtype": np.float32,
}


@dataclass
class TfidfModel:
    """A fitted vectorizer and the L2-normalised document matrix it produced."""

    vectorizer: TfidfVectorizer
    matrix: sp.csr_matrix

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Vectorize new texts with the fitted vocabulary and IDF."""
        return self.vectorizer.transform(list(texts)).tocsr()


def post_text(post: Post) -> str:
    """The text a post is compared by: title twice (it says most), excerpt, body.

    Categories and tags are left out: the taxonomy part of the related score weighs
    them by level and rarity, and counting them here too would count them twice.
    """
    return "\n".join((post.title, post.title, post.excerpt, post.body_text))


def fit_tfidf(posts: Sequence[Post]) -> TfidfModel:
    """Fit TF-IDF on the posts (min_df grows with the corpus to drop one-off noise)."""
    min_df = 1 if len(posts) < 500 else 2
    max_df = _VECTORIZER_PARAMS["max_df"] if len(posts) >= 20 else 1.0
    vectorizer = TfidfVectorizer(**{**_VECTORIZER_PARAMS, "max_df": max_df}, min_df=min_df)
    try:
        matrix = vectorizer.fit_transform([post_text(p) for p in posts])
    except ValueError:  # every word was a stop word or too rare: no vocabulary at all
        vectorizer = TfidfVectorizer(**{**_VECTORIZER_PARAMS, "max_df": 1.0, "stop_words": None})
        matrix = vectorizer.fit_transform([post_text(p) or "empty" for p in posts])
    return TfidfModel(vectorizer, matrix.tocsr().astype(np.float32))


def save_tfidf(model: TfidfModel, out_dir: Path) -> None:
    """Write the matrix as `tfidf.npz` and the vocabulary and IDF as `tfidf.json`."""
    sp.save_npz(out_dir / MATRIX_FILE, model.matrix, compressed=False)
    vocabulary = model.vectorizer.get_feature_names_out().tolist()
    payload = {
        "vocabulary": vocabulary,
        "idf": [round(float(x), 6) for x in model.vectorizer.idf_],
        "params": {k: v for k, v in model.vectorizer.get_params().items() if _is_json(v)},
    }
    (out_dir / VOCAB_FILE).write_text(json.dumps(payload), encoding="utf-8")


def load_tfidf(build_dir: Path) -> TfidfModel:
    """Load a saved model without unpickling anything."""
    matrix = sp.load_npz(build_dir / MATRIX_FILE).tocsr()  # scipy uses allow_pickle=False
    payload = json.loads((build_dir / VOCAB_FILE).read_text(encoding="utf-8"))
    params = {k: v for k, v in payload["params"].items() if k in _REBUILDABLE}
    vectorizer = TfidfVectorizer(**params, dtype=np.float32)
    vectorizer.vocabulary_ = {term: i for i, term in enumerate(payload["vocabulary"])}
    vectorizer.idf_ = np.asarray(payload["idf"], dtype=np.float64)
    return TfidfModel(vectorizer, matrix)


_REBUILDABLE = {"sublinear_tf", "strip_accents", "lowercase", "stop_words", "norm", "use_idf",
                "smooth_idf", "ngram_range", "token_pattern", "analyzer"}


def _is_json(value: object) -> bool:
    return isinstance(value, (str, int, float, bool, type(None))) or (
        isinstance(value, (list, tuple)) and all(isinstance(v, (str, int, float)) for v in value)
    )
