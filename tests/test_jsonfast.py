"""The orjson-backed JSON provider means the same as Flask's own on every kind of value."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from flask.json.provider import DefaultJSONProvider

from api import create_app


@dataclass
class _Point:
    x: int
    label: str


def test_fast_provider_output_means_what_flasks_own_does(tmp_path: Path) -> None:
    app = create_app({"INDEX_DIR": str(tmp_path), "ZERO_RESULTS_LOG": "off"})
    flask_own = DefaultJSONProvider(app)
    flask_own.sort_keys = False  # as the app always had it
    payload = {
        "text": "café “quotes” </script> \u2028 😀",
        "when": dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.UTC),
        "day": dt.date(2024, 5, 1),
        "point": _Point(3, "p"),
        1: "an int key",
        "huge": 2**70,  # beyond orjson: the standard library encodes it
        "nested": [{"b": 1, "a": [1.5, None, True]}],
    }
    with app.app_context():
        fast = app.json.dumps(payload)
        assert json.loads(fast) == json.loads(flask_own.dumps(payload))
        assert json.loads(app.json.dumps({"small": 1})) == {"small": 1}
        assert list(json.loads(app.json.dumps({"b": 1, "a": 2}))) == ["b", "a"]  # kept order
        assert "\n  " in app.json.dumps(payload, indent=2)  # formatting still honoured
        response = app.json.response({"q": "naïve"})
        assert response.mimetype == "application/json"
        assert response.get_json() == {"q": "naïve"}


def test_encoded_answers_are_the_bytes_a_response_would_send(tmp_path: Path) -> None:
    """`encode` (cached answers) gives the body `dumps` would, newline included, also for
    values orjson refuses without help (an integer key) or at all (a huge integer)."""
    app = create_app({"INDEX_DIR": str(tmp_path), "ZERO_RESULTS_LOG": "off"})
    payloads = [
        {"q": "naïve </mark>", "results": [{"score": 1.5, "tags": ["a"]}], "none": None},
        {1: "an int key", "nested": {"b": [True]}},
        {"huge": 2**70},
    ]
    with app.app_context():
        for payload in payloads:
            body = app.json.encode(payload)
            assert body == (app.json.dumps(payload) + "\n").encode()
            assert json.loads(body) == json.loads(app.json.dumps(payload))
