"""Related posts for an unpublished draft, scored like a post of the build, never indexed.

The draft is counted with the build's own vocabulary and IDF (`tfidf.json`) and its
labels weighed with the build's label rarities, so its scores mean what a post's do;
it is dated "now", so the time prior favours recent posts. Words and labels the
corpus never saw cannot be shared with any post and simply add nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from index.posts import Post
from index.related import (
    corpus_label_keys,
    label_counts,
    publication_days,
    sharpen,
    taxonomy_matrix,
    taxonomy_weight,
    time_prior,
)
from index.text import render_markdown
from index.tfidf import VOCAB_FILE, post_terms

from .explain import explain_related
from .loaded import LoadedBuild
from .related import RelatedContext, fill_recent
from .results import RelatedPage


@dataclass(frozen=True)
class Draft:
    """An unpublished post: its text and labels as the editor has them so far."""

    title: str = ""
    body: str = ""  # Markdown
    categories: tuple[tuple[str, str], ...] = ()  # (name, level)
    tags: tuple[str, ...] = ()

    def record(self) -> dict[str, Any]:
        """The draft as a catalog-like record (for label weighing and explanations)."""
        return {
            "slug": "",
            "date": None,
            "categories": [{"name": name, "level": level} for name, level in self.categories],
            "tags": list(self.tags),
            "keywords": [],
        }


class DraftScorer:
    """The build's vocabulary, sharpened TF-IDF rows and label rows, loaded once per build."""

    def __init__(self, loaded: LoadedBuild, context: RelatedContext) -> None:
        self.settings = context.settings
        saved = json.loads((loaded.build_dir / VOCAB_FILE).read_text(encoding="utf-8"))
        self.vocabulary = {term: i for i, term in enumerate(saved["vocabulary"])}
        self.idf = np.asarray(saved["idf"], dtype=np.float32)
        self.text_t = sharpen(context.text, self.settings.text_power).T.tocsc()
        posts = loaded.posts
        keys = corpus_label_keys(posts)  # one pass over the catalog for all three
        self.label_counts = label_counts(posts, keys)
        self.total = len(posts)
        labels = taxonomy_matrix(posts, self.settings, self.label_counts, keys=keys)
        self.labels_t = labels.T.tocsc()
        self.taxonomy_weight = taxonomy_weight(posts, self.settings, keys, self.label_counts)
        self.days = publication_days(posts)

    @classmethod
    def of(cls, loaded: LoadedBuild) -> DraftScorer:
        """The scorer of `loaded`, built on the first draft request."""
        context = RelatedContext.of(loaded)  # outside: memo factories must not nest
        return loaded.memo("draft_scorer", lambda build: cls(build, context))

    def scores(self, draft: Draft, now: dt.datetime) -> dict[str, np.ndarray]:
        """The draft's score parts against every post: combined, text, taxonomy, time."""
        vector = self._vector(draft)
        text = (vector @ self.text_t).toarray().ravel()
        row = taxonomy_matrix([draft.record()], self.settings, self.label_counts, self.total)
        taxonomy = (row @ self.labels_t).toarray().ravel()
        time = time_prior(now.timestamp() / 86400, self.days, self.settings)
        weight = self.taxonomy_weight
        combined = ((1.0 - weight) * text + weight * taxonomy) * time
        return {"combined": combined, "text": text, "taxonomy": taxonomy, "time": time}

    def _vector(self, draft: Draft) -> sp.csr_matrix:
        rendered = render_markdown(draft.body)
        post = Post(
            slug="draft",
            title=draft.title,
            path="",
            date=None,
            excerpt=rendered.first_paragraph or "",
            body_text=rendered.text,
            content_hash="",
        )
        # Counted as the build counted its posts; terms it never saw are left out. That
        # includes every stop word (the build never counted one), so none need removing
        # here, and a worker never imports scikit-learn for its list.
        known = sorted(
            (self.vocabulary[term], count)
            for term, count in post_terms(post, frozenset()).items()
            if term in self.vocabulary
        )
        columns = np.array([column for column, _ in known], dtype=np.int32)
        counts = np.array([count for _, count in known], dtype=np.float32)
        weights = (1.0 + np.log(counts)) * self.idf[columns]
        row = sp.csr_matrix((weights, columns, [0, len(known)]), shape=(1, self.text_t.shape[0]))
        return sharpen(row, self.settings.text_power)


def draft_related(loaded: LoadedBuild, draft: Draft, limit: int, now: dt.datetime) -> RelatedPage:
    """The `limit` visible posts a draft should link to, best first, with reasons."""
    parts = DraftScorer.of(loaded).scores(draft, now)
    context = RelatedContext.of(loaded)
    scores = parts["combined"]
    slugs = np.array(loaded.slugs)
    candidates = np.flatnonzero(scores > 0)
    order = candidates[np.lexsort((slugs[candidates], -np.round(scores[candidates], 6)))]
    page = RelatedPage(slug=None, build_id=loaded.build_id)
    source = draft.record()
    listed: list[int] = []
    for row in (int(r) for r in order):
        if len(listed) >= limit:
            break
        if not loaded.is_visible(row, now) or context.near_duplicate(row, listed):
            continue
        listed.append(row)
        page.results.append(
            explain_related(
                source,
                loaded.posts[row],
                score=float(scores[row]),
                text=float(parts["text"][row]),
                taxonomy=float(parts["taxonomy"][row]),
                time=float(parts["time"][row]),
            )
        )
    page.results += fill_recent(loaded, context, source, listed, set(), limit, now)
    return page
