"""Write a synthetic blog of any size whose statistics follow real blogs.

    python -m bench.corpus --size N --seed S OUT_DIR [--source DIR ...]

The speed benchmark needs 1k, 10k and 57k-post corpora on any machine. Posts are in
the seed's format (title, date, slug, excerpt, categories with levels, tags, flags,
reading time, Markdown body). What is learned from the real blogs in
`../shared/data/blogs` (or `--source` folders of Markdown posts):

- word frequencies: every word of every body, so common and rare words appear as often
  as in real writing (Zipf's law comes with the data);
- post lengths: each post's length is drawn from the real posts' word counts;
- topics: each niche category owns a few hundred mid-frequency words that its posts use
  more often, so search, facets and related lists behave as on a real blog.

The category tree (general > medium > specific > niche) has skewed popularity: a few
general topics hold most posts. Dates spread over twelve years. The output depends only
on --size, --seed and the source texts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
from collections import Counter
from pathlib import Path

import numpy as np
import yaml

SOURCES = Path(__file__).resolve().parents[2] / "shared" / "data" / "blogs"
_FRONT = re.compile(r"\A---\s*\n.*?\n---\s*\n", re.S)
_WORD = re.compile(r"[A-Za-z][a-z]+(?:'[a-z]+)?")
TOPIC_SHARE = 0.25  # share of a post's words drawn from its niche's own words
TOPIC_WORDS = 300


class Language:
    """Word frequencies and post lengths learned from real posts."""

    def __init__(self, sources: list[Path]) -> None:
        counts: Counter[str] = Counter()
        lengths: list[int] = []
        for folder in sources:
            for path in sorted(folder.rglob("*.md")) + sorted(folder.rglob("*.markdown")):
                text = _FRONT.sub("", path.read_text(encoding="utf-8", errors="replace"))
                found = _WORD.findall(text)
                if len(found) >= 50:
                    counts.update(w.lower() for w in found)
                    lengths.append(len(found))
        if not counts:
            raise SystemExit(f"no posts to learn from in {', '.join(map(str, sources))}")
        ranked = counts.most_common()
        self.words = np.array([w for w, _ in ranked])
        frequency = np.array([c for _, c in ranked], dtype=np.float64)
        self.cumulative = np.cumsum(frequency / frequency.sum())
        self.lengths = np.array(lengths)

    def sample(self, rng: np.random.Generator, count: int) -> np.ndarray:
        """Word indices drawn by frequency (inverse CDF: one search per word)."""
        drawn = np.searchsorted(self.cumulative, rng.random(count) * self.cumulative[-1])
        return np.minimum(drawn, len(self.words) - 1)


def _tree(rng: np.random.Generator, words: np.ndarray) -> list[dict]:
    """A category tree: 8 general topics, 4 medium each, 3 specific each, 3 niches each."""
    names = iter(rng.permutation(words[200:5000]))

    def label(count: int) -> str:
        return " ".join(next(names).capitalize() for _ in range(count))

    niches = []
    for _ in range(8):
        general = label(1)
        for _ in range(4):
            medium = label(2)
            for _ in range(3):
                specific = label(2)
                for _ in range(3):
                    niches.append(
                        {
                            "general": general,
                            "medium": medium,
                            "specific": specific,
                            "niche": label(2),
                        }
                    )
    return niches


def _popularity(count: int, rng: np.random.Generator, skew: float = 1.1) -> np.ndarray:
    weights = 1.0 / np.arange(1, count + 1) ** skew
    return rng.permutation(weights / weights.sum())


def write_corpus(size: int, seed: int, out_dir: Path, sources: list[Path]) -> list[Path]:
    """Write `size` posts into `out_dir`; returns their paths."""
    language = Language(sources)
    rng = np.random.default_rng(seed)
    niches = _tree(rng, language.words)
    niche_weights = _popularity(len(niches), rng)
    middle = np.arange(300, min(20_000, len(language.words)))
    topic_words = [rng.choice(middle, TOPIC_WORDS, replace=False) for _ in niches]
    tags = [f"{language.words[i]}" for i in rng.choice(middle, 400, replace=False)]
    tag_weights = _popularity(len(tags), rng)
    start = dt.datetime(2013, 1, 1, tzinfo=dt.UTC).timestamp()
    span = dt.datetime(2025, 12, 31, tzinfo=dt.UTC).timestamp() - start
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(size):
        niche = int(rng.choice(len(niches), p=niche_weights))
        length = int(rng.choice(language.lengths))
        own = int(length * TOPIC_SHARE)
        body_ids = np.concatenate(
            [
                language.sample(rng, length - own),
                rng.choice(topic_words[niche], own),
            ]
        )
        rng.shuffle(body_ids)
        body_words = language.words[body_ids].tolist()
        title_words = language.words[rng.choice(topic_words[niche], int(rng.integers(3, 9)))]
        title = " ".join(title_words.tolist()).capitalize()
        date = dt.datetime.fromtimestamp(start + rng.random() * span, dt.UTC)
        slug = f"{'-'.join(title_words.tolist()[:5])}-{number}"
        chosen_tags = sorted(set(rng.choice(tags, int(rng.integers(1, 6)), p=tag_weights).tolist()))
        path = out_dir / f"{date:%Y-%m-%d}-{slug}.md"
        path.write_text(
            _post(title, date, slug, niches[niche], chosen_tags, body_words, rng),
            encoding="utf-8",
        )
        paths.append(path)
    return paths


def _post(
    title: str,
    date: dt.datetime,
    slug: str,
    niche: dict,
    tags: list[str],
    words: list[str],
    rng: np.random.Generator,
) -> str:
    paragraphs, position = [], 0
    while position < len(words):
        size = int(rng.integers(40, 160))
        chunk = words[position : position + size]
        position += size
        sentences, at = [], 0
        while at < len(chunk):
            step = int(rng.integers(8, 25))
            sentence = " ".join(chunk[at : at + step])
            sentences.append(sentence[:1].upper() + sentence[1:] + ".")
            at += step
        paragraphs.append(" ".join(sentences))
        if rng.random() < 0.15:
            paragraphs.append(f"## {' '.join(chunk[:4]).capitalize()}")
    excerpt = " ".join(words[:30])
    front = {
        "title": title,
        "date": date.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "slug": slug,
        "excerpt": excerpt[:1].upper() + excerpt[1:] + "…",
        "metaDescription": excerpt[:150],
        "category": niche["niche"],
        "categories": [
            {"type": "exact", "name": niche["niche"]},
            {"type": "general", "name": niche["general"]},
            {"type": "medium", "name": niche["medium"]},
            {"type": "specific", "name": niche["specific"]},
            {"type": "niche", "name": niche["niche"]},
        ],
        "tags": tags,
        "status": "published",
        "trending": bool(rng.random() < 0.05),
        "featured": bool(rng.random() < 0.05),
        "readingTime": max(1, len(words) // 230),
    }
    head = yaml.safe_dump(front, sort_keys=False, allow_unicode=True, width=1_000_000)
    return f"---\n{head}---\n\n" + "\n\n".join(paragraphs) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--source", type=Path, action="append", help="folder of real posts")
    parser.add_argument("out_dir", type=Path)
    args = parser.parse_args()
    sources = args.source or sorted(p for p in SOURCES.iterdir() if p.is_dir())
    paths = write_corpus(args.size, args.seed, args.out_dir, sources)
    print(f"wrote {len(paths)} posts to {args.out_dir}")


if __name__ == "__main__":
    main()
