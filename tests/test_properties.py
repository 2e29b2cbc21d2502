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
    for prefix in ("0", "1"):
        response = client.get("/api/search", query_string={"q": q, "prefix": prefix})
        assert response.status_code in (200, 400)
        body = response.get_json()
        assert ("results" in body) if response.status_code == 200 else ("error" in body)
    suggest = client.get("/api/suggest", query_string={"q": q})
    assert suggest.status_code in (200, 400)


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


@SETTINGS
@given(
    pairs=st.lists(
        st.tuples(
            st.sampled_from(
                [
                    "q",
                    "page",
                    "per_page",
                    "category",
                    "tag",
                    "author",
                    "year",
                    "featured",
                    "trending",
                    "from",
                    "to",
                    "sort",
                    "prefix",
                    "correct",
                    "limit",
                    "posts",
                    "x",
                ]
            ),
            st.one_of(
                st.text(max_size=40),
                st.integers(-(10**30), 10**30).map(str),
                st.sampled_from(
                    ["\x00", "\x1b[31m", "\u202e", "NOT", '"', "-1", "0", "1", "2024-02-30"]
                ),
            ),
        ),
        max_size=12,
    )
)
def test_repeated_and_control_parameters_never_500(client, pairs) -> None:
    """Repeated keys, control characters, huge and negative numbers (issue #5)."""
    paths = ("/api/search", "/api/suggest", "/api/posts/sourdough-bread-for-beginners/related")
    for path in paths:
        response = client.get(path, query_string=pairs)
        assert response.status_code in (200, 400), (path, pairs)
        body = response.get_json()
        assert ("error" in body) == (response.status_code == 400)
