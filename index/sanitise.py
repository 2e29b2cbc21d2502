"""Make a post's rendered HTML safe to insert into our pages (nh3, the Ammonia sanitiser).

Raw HTML in a post is allowed through only as a safe subset, so a post can never run
script on our pages. Runs at parse time, in the parsing processes, on the HTML that
pulldown-cmark rendered from the same cleaned Markdown as the text (see
`text.render_markdown`).
"""

from __future__ import annotations

import nh3

# Ammonia's defaults (no script, style, iframe, form, event handler or javascript: URL)
# minus what would let a post restyle or overlay our page; `class` only on code, where
# highlighters look for `language-*`.
_TAGS = set(nh3.ALLOWED_TAGS) - {"map", "area"}
_ATTRIBUTES = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    "code": {"class"},
    "img": {"src", "alt", "title", "width", "height"},
    "a": {"href", "title"},
}


def sanitise_html(html: str) -> str:
    """The HTML with everything that could run, restyle or overlay our page removed."""
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
