"""Say why a post is related to another: shared categories by level, shared tags, text."""

from __future__ import annotations

from typing import Any

from index.related import LEVEL_WEIGHTS

from .results import RelatedPost

# Below this TF-IDF cosine, calling two posts "similar in wording" would overclaim.
_TEXT_REASON_FROM = 0.08


def explain_related(
    source: dict[str, Any], other: dict[str, Any], score: float, text: float, taxonomy: float
) -> RelatedPost:
    """Build the related-post record with its structured reasons and a one-line summary."""
    reasons: list[dict[str, Any]] = []
    theirs = {c["name"].casefold() for c in other["categories"]}
    shared = [c for c in source["categories"] if c["name"].casefold() in theirs]
    shared.sort(key=lambda c: -LEVEL_WEIGHTS.get(c["level"], 0.5))
    reasons += [{"kind": "category", "name": c["name"], "level": c["level"]} for c in shared]
    their_labels = {t.casefold() for t in other["tags"] + other["keywords"]}
    tags = list(
        dict.fromkeys(
            t for t in source["tags"] + source["keywords"] if t.casefold() in their_labels
        )
    )
    reasons += [{"kind": "tag", "name": t} for t in tags]
    if text >= _TEXT_REASON_FROM or not reasons:
        reasons.append({"kind": "text", "similarity": round(text, 4)})
    return RelatedPost(
        slug=other["slug"],
        title=other["title"],
        excerpt=other["excerpt"],
        date=other["date"],
        score=round(score, 4),
        score_parts={"text": round(text, 4), "taxonomy": round(taxonomy, 4)},
        reasons=reasons,
        reason=_summary(shared, tags, text),
    )


def _summary(shared: list[dict[str, str]], tags: list[str], text: float) -> str:
    parts = []
    if shared:
        first = shared[0]
        level = "" if first["level"] in ("unknown", "exact") else f"{first['level']} "
        more = f" and {len(shared) - 1} more" if len(shared) > 1 else ""
        parts.append(f"Also in the {level}category “{first['name']}”{more}")
    if tags:
        more = f" and {len(tags) - 1} more" if len(tags) > 1 else ""
        parts.append(f"tagged “{tags[0]}”{more}")
    if text >= _TEXT_REASON_FROM:
        parts.append("similar wording")
    elif not parts:
        parts.append("a few words in common")
    sentence = "; ".join(parts)
    return sentence[0].upper() + sentence[1:]
