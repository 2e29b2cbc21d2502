"""Say why a post is related to another, in structured reasons and one readable sentence.

Reasons, in order: the editor pinned it; shared categories (most specific level
first); shared tags; similar wording; published shortly before. Fallback entries (the
list was short) say so: "recent in the same category", "recent with the same tag",
"recent".
"""

from __future__ import annotations

from typing import Any

from index.related import LEVEL_WEIGHTS, normalize_label

from .results import RelatedPost

# Below this TF-IDF cosine, calling two posts "similar in wording" would overclaim.
_TEXT_REASON_FROM = 0.08
# A time factor this far above 1 means the post was published shortly before or after.
_TIME_REASON_FROM = 1.25


def explain_related(
    source: dict[str, Any],
    other: dict[str, Any],
    score: float,
    text: float,
    taxonomy: float,
    time: float = 1.0,
    pinned: bool = False,
) -> RelatedPost:
    """Build the related-post record with its structured reasons and a one-line summary."""
    reasons: list[dict[str, Any]] = [{"kind": "pinned"}] if pinned else []
    shared = shared_categories(source, other)
    reasons += [{"kind": "category", "name": c["name"], "level": c["level"]} for c in shared]
    tags = shared_tags(source, other)
    reasons += [{"kind": "tag", "name": t} for t in tags]
    if text >= _TEXT_REASON_FROM or not reasons:
        reasons.append({"kind": "text", "similarity": round(text, 4)})
    if time >= _TIME_REASON_FROM:
        reasons.append({"kind": "time", "factor": round(time, 4)})
    return RelatedPost(
        slug=other["slug"],
        title=other["title"],
        excerpt=other["excerpt"],
        date=other["date"],
        score=round(score, 4),
        score_parts={
            "text": round(text, 4),
            "taxonomy": round(taxonomy, 4),
            "time": round(time, 4),
        },
        reasons=reasons,
        reason=_summary(pinned, shared, tags, text, time),
    )


def explain_fallback(other: dict[str, Any], kind: str, name: str | None) -> RelatedPost:
    """A post added because the list was short: labelled as recent, with what it shares."""
    reason: dict[str, Any] = {"kind": kind}
    if kind == "recent_in_category":
        reason["name"] = name
        sentence = f"Recent in the same category “{name}”"
    elif kind == "recent_with_tag":
        reason["name"] = name
        sentence = f"Recent, also tagged “{name}”"
    else:
        sentence = "Recent post"
    return RelatedPost(
        slug=other["slug"],
        title=other["title"],
        excerpt=other["excerpt"],
        date=other["date"],
        score=0.0,
        score_parts={"text": 0.0, "taxonomy": 0.0, "time": 1.0},
        reasons=[reason],
        reason=sentence,
    )


def shared_categories(source: dict[str, Any], other: dict[str, Any]) -> list[dict[str, str]]:
    """The source's categories the other post also has, most informative level first."""
    theirs = {normalize_label(c["name"]) for c in other["categories"]}
    shared = [c for c in source["categories"] if normalize_label(c["name"]) in theirs]
    return sorted(shared, key=lambda c: -LEVEL_WEIGHTS.get(c["level"], 0.5))


def shared_tags(source: dict[str, Any], other: dict[str, Any]) -> list[str]:
    """The source's tags and keywords the other post also has (spelling variants agree)."""
    theirs = {normalize_label(t) for t in other["tags"] + other["keywords"]}
    shared: dict[str, str] = {}
    for tag in source["tags"] + source["keywords"]:
        key = normalize_label(tag)
        if key in theirs:
            shared.setdefault(key, tag)
    return list(shared.values())


def _summary(
    pinned: bool, shared: list[dict[str, str]], tags: list[str], text: float, time: float
) -> str:
    parts = ["Picked by the editor"] if pinned else []
    if shared:
        first = shared[0]
        level = "" if first["level"] in ("unknown", "exact") else f"{first['level']} "
        more = f" and {len(shared) - 1} more" if len(shared) > 1 else ""
        parts.append(f"also in the {level}category “{first['name']}”{more}")
    if tags:
        more = f" and {len(tags) - 1} more" if len(tags) > 1 else ""
        parts.append(f"tagged “{tags[0]}”{more}")
    if text >= _TEXT_REASON_FROM:
        parts.append("similar wording")
    elif not parts:
        parts.append("a few words in common")
    if time >= _TIME_REASON_FROM:
        parts.append("published around the same time")
    sentence = "; ".join(parts)
    return sentence[0].upper() + sentence[1:]
