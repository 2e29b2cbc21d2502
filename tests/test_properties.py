"""Property tests: no query text or parameter value makes the API answer 500."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
QUERY_CHARS = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=300)
SYNTAX = st.lists(
    st.sampled_from(
        [
            '"',
            "(",
            ")",
            "*",
            "?",
            ":",
            "^",
            "~",
            "[",
            "]",
            "{",
            "}",
            "AND",
            "OR",
            "NOT",
            "TO",
            "-",
            "+",
            "body:",
            "title:",
            "neural",
            "networks",
            " ",
        ]
    ),
    max_size=40,
).map("".join)


@SETTINGS
@given(q=st.one_of(QUERY_CHARS, SYNTAX))
def test_any_query_text_is_answered(client, q: str) -> None:
    response = client.get("/api/search", query_string={"q": q})
    assert response.status_code in (200, 400)
    body = response.get_json()
    assert ("results" in body) if response.status_code == 200 else ("error" in body)


@SETTINGS
@given(
    page=st.text(max_size=12),
    per_page=st.text(max_size=12),
    limit=st.text(max_size=12),
    category=st.text(max_size=30),
)
def test_any_parameter_value_is_200_or_400(
    client, page: str, per_page: str, limit: str, category: str
) -> None:
    search = client.get(
        "/api/search", query_string={"page": page, "per_page": per_page, "category": category}
    )
    assert search.status_code in (200, 400)
    related = client.get(
        "/api/posts/sourdough-bread-for-beginners/related", query_string={"limit": limit}
    )
    assert related.status_code in (200, 400)


@SETTINGS
@given(
    slug=st.text(
        alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="?#"),
        min_size=1,
        max_size=80,
    )
)
def test_any_slug_is_200_301_or_404(client, slug: str) -> None:
    response = client.get("/api/posts/" + slug)
    assert response.status_code in (200, 301, 308, 404, 405)
