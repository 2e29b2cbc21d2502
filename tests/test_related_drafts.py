"""POST /api/related (issue 4): an unpublished draft's related posts, never indexed."""

from __future__ import annotations

import pytest

NEURAL_DRAFT = {
    "title": "Training deep neural networks",
    "body": "# Why depth helps\n\nA neural network with more layers learns features: "
    "backpropagation adjusts the weights, activation functions add non-linearity, "
    "and a perceptron is the smallest network.",
    "categories": [{"name": "Neural Networks", "type": "specific"}, "Machine Learning"],
    "tags": ["backpropagation"],
}


def test_draft_gets_related_posts_with_reasons(client) -> None:
    response = client.post("/api/related", json={**NEURAL_DRAFT, "limit": 3})
    assert response.status_code == 200
    body = response.get_json()
    assert list(body) == ["slug", "results", "build_id"] and body["slug"] is None
    assert len(body["results"]) == 3
    first = body["results"][0]
    assert first["slug"] == "neural-network-basics-how-machines-learn"
    assert first["url"] == "/posts/neural-network-basics-how-machines-learn"
    assert {"kind": "category", "name": "Neural Networks", "level": "specific"} in first["reasons"]
    assert {"kind": "tag", "name": "backpropagation"} in first["reasons"]
    assert first["reason"].startswith("Also in the specific category “Neural Networks”")
    assert set(first["score_parts"]) == {"text", "taxonomy", "time"}
    assert all(r["score"] > 0 for r in body["results"])


def test_draft_is_not_indexed(client) -> None:
    before = client.get("/healthz").get_json()
    draft = {"title": "Zanzibarian quokkas", "body": "Quokkas of Zanzibar, a made-up word."}
    assert client.post("/api/related", json=draft).status_code == 200
    after = client.get("/healthz").get_json()
    assert after == before
    assert client.get("/api/search?q=quokkas").get_json()["total"] == 0


def test_draft_with_only_labels_or_unknown_words_still_fills_the_list(client) -> None:
    body = client.post("/api/related", json={"tags": ["sourdough"], "limit": 4}).get_json()
    assert len(body["results"]) == 4
    assert body["results"][0]["reasons"][0] == {"kind": "tag", "name": "sourdough"}
    unknown = client.post("/api/related", json={"title": "Xyzzy plugh", "limit": 2}).get_json()
    assert [r["reasons"][0]["kind"] for r in unknown["results"]] == ["recent", "recent"]


def test_draft_limit_is_capped_and_read_from_json_or_query(client) -> None:
    capped = client.post("/api/related", json={**NEURAL_DRAFT, "limit": 999}).get_json()
    assert len(capped["results"]) == 20
    from_query = client.post("/api/related?limit=2", json=NEURAL_DRAFT).get_json()
    assert len(from_query["results"]) == 2


@pytest.mark.parametrize(
    ("payload", "param"),
    [
        ({"title": 3}, "title"),
        ({"title": "x" * 1001}, "title"),
        ({"body": ["a"]}, "body"),
        ({"body": "x" * 200_001}, "body"),
        ({"tags": {"a": 1}}, "tags"),
        ({"tags": ["x"] * 51}, "tags"),
        ({"tags": [1]}, "tags"),
        ({"categories": [{"name": "A", "type": "galactic"}]}, "categories"),
        ({"categories": [{"type": "niche"}]}, "categories"),
        ({"categories": 5}, "categories"),
        ({"title": "A", "limit": 0}, "limit"),
        ({"title": "A", "limit": "3"}, "limit"),
        ({"title": "A", "limit": True}, "limit"),
        ({}, "title"),
        ({"title": "   ", "body": ""}, "title"),
        ([1, 2], "body"),
        ("text", "body"),
    ],
)
def test_bad_drafts_are_400_naming_the_field(client, payload, param) -> None:
    response = client.post("/api/related", json=payload)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_parameter" and error["param"] == param


@pytest.mark.parametrize("data", [b"not json", b"\xff\xfe", b"", b'{"title": "unterminated'])
def test_bodies_that_are_not_json_are_400(client, data) -> None:
    response = client.post("/api/related", data=data, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["param"] == "body"


def test_oversized_draft_is_413_and_get_is_405(client) -> None:
    response = client.post("/api/related", data=b"x" * (600 * 1024))
    assert response.status_code == 413
    assert response.get_json()["error"]["status"] == 413
    assert client.get("/api/related").status_code == 405
