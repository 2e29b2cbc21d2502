"""The pages a reader touches, driven in headless Debian Chromium via Playwright (issue 7).

A real gunicorn serves the sample corpus plus two posts of our own (a title that is an
XSS payload, and a rare word with a common neighbour for "did you mean"). Every test
fails on a JavaScript error, a console error or a request that leaves loopback. axe-core
(from npm, installed by `make test`) checks each page for serious or critical
accessibility violations. Screenshots go to test-artifacts/screenshots/ on every run,
and to docs/screenshots/ (the README's) with POSTSEARCH_UPDATE_SCREENSHOTS=1.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.conftest import ROOT, LiveServer, free_port, seed_front, write_post

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
README_SHOTS = ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 10_000
COUNT = re.compile(r"(\d+) results?")
HOSTILE_TITLE = "<img src=x onerror=alert(1)>"
POST = "recurrent-neural-networks-for-sequences"
PIXEL = bytes.fromhex(  # a 1x1 GIF
    "47494638396101000100800000ffffff00000021f90401000000002c00000000010001000002024401003b"
)


def _widget_snippet() -> str:
    """The README's widget snippet, exactly as a site owner would paste it."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- widget snippet -->\s*```html\n(.*?)```", readme, re.S)
    assert match, "README.md has no widget snippet block"
    return match.group(1)


class _StaticSite(BaseHTTPRequestHandler):
    """Serves one static HTML page: a blog on another origin embedding the widget."""

    page = b""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        if self.path.split("?")[0] != "/":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.page)))
        self.end_headers()
        self.wfile.write(self.page)

    def log_message(self, *args: object) -> None:
        pass


class StaticSite:
    """A second loopback origin serving `html` (a thread, stopped by `close`)."""

    def __init__(self, html: str) -> None:
        handler = type("Handler", (_StaticSite,), {"page": html.encode("utf-8")})
        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture(scope="module")
def blog_site() -> Iterator[StaticSite]:
    """The embedding blog; its page is filled in once the API's address is known."""
    site = StaticSite("")
    yield site
    site.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, blog_site: StaticSite) -> Iterator[LiveServer]:
    """gunicorn serving the sample posts plus ours, allowing the blog's origin only."""
    live = LiveServer(tmp_path_factory.mktemp("browser"))
    write_post(
        live.posts_dir,
        "hostile-title.md",
        seed_front("hostile-title", HOSTILE_TITLE, "Web Development", "Security", "XSS", "XSS"),
        "A post whose title is an XSS payload. Its body tries <script>alert(2)</script> too.",
    )
    stort = seed_front(
        "a-walk-along-the-stort", "A Walk Along the Stort", "Travel", "Walks", "Rivers", "Rivers"
    )  # noqa: E501
    write_post(
        live.posts_dir,
        "a-walk-along-the-stort.md",
        stort,
        "The Stort is a small river; we walked the stort towpath for a day.",
    )
    live.env["POSTSEARCH_CORS_ORIGINS"] = blog_site.url
    result = live.reindex()
    assert result.returncode == 0, result.stderr
    snippet = _widget_snippet().replace("https://search.example.com", live.url)
    page = f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>A static blog</title>\n<link rel="icon" href="data:,"><style>body{{font:17px/1.5 Georgia,serif;max-width:46rem;margin:2rem auto;padding:0 1rem}}</style></head><body><main><h1>A static blog</h1>\n{snippet}</main></body></html>'  # noqa: E501
    blog_site.server.RequestHandlerClass.page = page.encode("utf-8")  # type: ignore[attr-defined]
    live.start()
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test`, which installs Debian's chromium")
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make test`, which installs it with npm")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture()
def page(browser: Browser, server: LiveServer) -> Iterator[Page]:
    """A fresh context per test; fails on errors, console errors, dialogs, off-loopback requests.

    Images a post body links to (the blog's CDN) are answered with a local pixel instead.
    """
    # bypass_csp lets the test inject axe-core into pages whose policy forbids foreign scripts.
    context = browser.new_context(
        base_url=server.url, bypass_csp=True, viewport={"width": 1100, "height": 900}
    )
    context.set_default_timeout(TIMEOUT_MS)
    problems: list[str] = []

    def outside(route) -> None:
        if route.request.resource_type == "image":  # a post's picture on the blog's CDN
            route.fulfill(status=200, content_type="image/gif", body=PIXEL)
            return
        problems.append(f"request off loopback: {route.request.url}")
        route.abort()

    context.route(re.compile(r"^(?!https?://127\.0\.0\.1[:/]|data:|about:)"), outside)
    page = context.new_page()
    console: list[str] = []
    page.expected_console_errors = []  # type: ignore[attr-defined]  # regexes a test expects
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    try:
        yield page
    finally:
        context.close()
    expected = page.expected_console_errors  # type: ignore[attr-defined]
    problems += [f"console: {c}" for c in console if not any(re.search(e, c) for e in expected)]
    assert not problems, problems


def wait_ready(page: Page, query: str | None = None) -> None:
    """Wait until the search page has rendered an answer (for `query` when given)."""
    results = page.locator("#results")
    if query is not None:
        expect(results).to_have_attribute("data-query", query)
    expect(results).to_have_attribute("data-state", "ready")


def results_of(page: Page):
    return page.locator("#results > li")


def total_of(page: Page) -> int:
    text = page.locator("#status").inner_text()
    match = COUNT.search(text)
    assert match, f"no 'N results' in the status line: {text!r}"
    return int(match.group(1))


def url_params(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def slugs(page: Page) -> list[str]:
    return results_of(page).locator("h2 a").evaluate_all("links => links.map(a => a.pathname)")


def check_accessibility(page: Page) -> None:
    """No serious or critical axe-core violation on the page as it is now."""
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
            .map(v => ({id: v.id, impact: v.impact, help: v.help,
                        nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}))"""
    )
    bad = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert not bad, json.dumps(bad, indent=1)


def screenshot(page: Page, name: str, full_page: bool = False) -> None:
    """Save a screenshot as a test artifact (and for the README when asked to)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)
    if os.environ.get("POSTSEARCH_UPDATE_SCREENSHOTS") == "1":
        README_SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(README_SHOTS / f"{name}.png"), full_page=full_page)


def combobox(page: Page):
    return page.get_by_role("combobox", name="Search the blog")


def type_on_home(page: Page, text: str):
    """Open the search page, wait for its first listing, type `text`; the search box."""
    page.goto("/")
    wait_ready(page, "")
    box = combobox(page)
    box.press_sequentially(text)
    return box


# --- the search page -------------------------------------------------------------------


def test_home_lists_posts_with_every_facet(page: Page) -> None:
    page.goto("/")
    wait_ready(page, "")
    expect(page).to_have_title("postsearch")
    expect(combobox(page)).to_have_value("")
    expect(combobox(page)).to_have_attribute("aria-expanded", "false")
    assert total_of(page) == 57
    expect(results_of(page).first.locator("time")).to_have_count(1)
    expect(results_of(page).first.locator(".cats li").first).not_to_be_empty()
    facets = page.locator("#facets")
    for legend in ("Categories", "Tags", "Authors", "Years"):
        group = facets.locator("fieldset", has=page.locator("legend", has_text=legend))
        expect(group).to_have_count(1)
        assert group.get_by_role("checkbox").count() > 0, legend
    expect(facets.locator("input[name=category] ~ .level").first).to_have_text(
        re.compile(r"^(general|medium|specific|niche|exact)$")
    )
    check_accessibility(page)
    screenshot(page, "search")


def test_typing_shows_suggestions_and_results(page: Page) -> None:
    box = type_on_home(page, "neural ne")
    listbox = page.get_by_role("listbox", name="Suggestions")
    expect(listbox).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    expect(listbox.get_by_role("option").first).to_have_text(re.compile(r"^neural ne"))
    expect(listbox.locator("[data-kind=post]").first).to_be_visible()
    wait_ready(page, "neural ne")  # prefix search: "ne" already matches "networks"
    first = results_of(page).first
    expect(first.locator("h2 a mark").first).to_be_visible()
    expect(first.locator(".snippet mark").first).to_be_visible()
    expect(page).to_have_url(re.compile(r"[?&]q=neural\+ne(&|$)"))
    box.press("ArrowDown")
    check_accessibility(page)
    screenshot(page, "search-suggestions")


def test_arrow_keys_and_enter_pick_a_completion(page: Page) -> None:
    box = type_on_home(page, "neural ne")
    options = page.get_by_role("listbox", name="Suggestions").get_by_role("option")
    expect(options.first).to_be_visible()
    box.press("ArrowDown")
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", options.nth(0).get_attribute("id"))
    box.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    expect(options.nth(0)).to_have_attribute("aria-selected", "false")
    box.press("ArrowUp")
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    picked = options.nth(0).inner_text()
    box.press("Enter")
    expect(box).to_have_value(picked)
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(box).to_be_focused()
    wait_ready(page, picked)
    assert url_params(page)["q"] == [picked]
    assert total_of(page) > 0


def test_arrow_to_a_post_suggestion_and_enter_opens_it(page: Page) -> None:
    box = type_on_home(page, "recurrent")
    post = page.get_by_role("option", name=re.compile("^Recurrent Neural Networks"))
    expect(post).to_be_visible()
    options = page.get_by_role("listbox").get_by_role("option")
    index = options.evaluate_all("nodes => nodes.findIndex(n => n.dataset.kind === 'post')")
    for _ in range(index + 1):
        box.press("ArrowDown")
    expect(post).to_have_attribute("aria-selected", "true")
    box.press("Enter")
    expect(page).to_have_url(re.compile(rf"/posts/{POST}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("^Recurrent Neural"))


def test_escape_closes_the_list_then_clears_the_box(page: Page) -> None:
    box = type_on_home(page, "sourd")
    expect(page.get_by_role("listbox")).to_be_visible()
    box.press("Escape")
    expect(page.get_by_role("listbox")).to_be_hidden()
    expect(box).to_have_value("sourd")
    box.press("Escape")
    expect(box).to_have_value("")
    wait_ready(page, "")


def test_facets_filter_and_are_kept_in_the_url(page: Page) -> None:
    page.goto("/")
    wait_ready(page, "")
    before = total_of(page)
    cooking = page.locator("#facets").get_by_role("checkbox", name=re.compile(r"^Cooking\b"))
    cooking.focus()
    page.keyboard.press("Space")  # keyboard alone
    wait_ready(page)
    expect(page).to_have_url(re.compile(r"[?&]category=cooking"))
    after = total_of(page)
    assert 0 < after < before
    expect(cooking).to_be_checked()
    expect(cooking).to_be_focused()  # re-rendering the facets keeps keyboard focus
    for item in results_of(page).all():
        names = [n.lower() for n in item.locator(".cats li").all_inner_texts()]
        assert "cooking" in names, names
    tag = page.locator("#facets input[name=tag]").first
    tag_value = tag.get_attribute("value")
    tag.check()
    wait_ready(page)
    assert url_params(page)["tag"] == [tag_value]
    assert total_of(page) <= after
    shown = slugs(page)
    page.reload()
    wait_ready(page, "")
    expect(page.locator("#facets input[name=category][value=cooking]")).to_be_checked()
    expect(page.locator(f"#facets input[name=tag][value='{tag_value}']")).to_be_checked()
    assert slugs(page) == shown
    page.get_by_role("button", name="Clear all filters").click()
    wait_ready(page)
    assert total_of(page) == before and "category" not in url_params(page)


def test_showing_results_for_links_to_the_original(page: Page) -> None:
    page.goto("/?q=nueral+netwrok")
    wait_ready(page, "nueral netwrok")
    line = page.locator("#correction")
    expect(line).to_contain_text("Showing results for neural network")
    assert total_of(page) > 0
    line.get_by_role("link", name="nueral netwrok").click()
    wait_ready(page, "nueral netwrok")
    assert url_params(page)["correct"] == ["0"]
    expect(page.locator("#empty")).to_contain_text("No posts match “nueral netwrok”")
    expect(line).to_have_text("Did you mean neural network?")  # offered, not searched
    page.go_back()
    wait_ready(page, "nueral netwrok")
    expect(line).to_contain_text("Showing results for neural network")


def test_did_you_mean_link_searches_the_suggestion(page: Page) -> None:
    page.goto("/?q=stort")
    wait_ready(page, "stort")
    assert slugs(page) == ["/posts/a-walk-along-the-stort"]
    line = page.locator("#correction")
    expect(line).to_have_text("Did you mean start?")
    line.get_by_role("link", name="start").press("Enter")
    wait_ready(page, "start")
    expect(combobox(page)).to_have_value("start")
    assert url_params(page)["q"] == ["start"] and total_of(page) > 1


def test_back_and_forward_restore_the_query(page: Page) -> None:
    box = type_on_home(page, "sourdough")
    box.press("Enter")
    wait_ready(page, "sourdough")
    sourdough = slugs(page)
    box.fill("")
    box.press_sequentially("neural")
    box.press("Enter")
    wait_ready(page, "neural")
    page.go_back()
    wait_ready(page, "sourdough")
    expect(box).to_have_value("sourdough")
    assert slugs(page) == sourdough
    page.go_back()
    wait_ready(page, "")
    expect(box).to_have_value("")
    page.go_forward()
    wait_ready(page, "sourdough")
    page.go_forward()
    wait_ready(page, "neural")
    expect(box).to_have_value("neural")


def test_next_and_previous_page(page: Page) -> None:
    page.goto("/?per_page=5")
    wait_ready(page, "")
    expect(results_of(page)).to_have_count(5)
    expect(page.locator("#prev")).to_be_disabled()
    first_page = slugs(page)
    page.get_by_role("button", name="Next page →").click()
    wait_ready(page, "")
    expect(page.locator("#page-info")).to_have_text(re.compile(r"^Page 2 of"))
    assert url_params(page).get("page") == ["2"]
    assert not set(first_page) & set(slugs(page))
    page.go_back()
    wait_ready(page, "")
    expect(page.locator("#page-info")).to_have_text(re.compile(r"^Page 1 of"))
    assert slugs(page) == first_page


def test_no_match_shows_a_helpful_empty_state(page: Page) -> None:
    page.goto("/")
    wait_ready(page, "")
    combobox(page).press_sequentially("zzqxqzz")
    wait_ready(page, "zzqxqzz")
    empty = page.locator("#empty")
    expect(empty).to_contain_text("No posts match “zzqxqzz”")
    expect(empty).to_contain_text("fewer words")
    expect(results_of(page)).to_have_count(0)
    expect(page.locator("#status")).to_contain_text("0 results")
    topics = empty.locator(".browse a")
    expect(topics.first).to_be_visible()  # the blog's broad categories, as a way in
    assert topics.count() >= 3
    check_accessibility(page)
    screenshot(page, "search-empty")
    topic = topics.first.inner_text()
    topics.first.click()
    wait_ready(page, "")
    assert 0 < total_of(page) < 57
    expect(page.locator("#facets input[name=category]:checked")).to_have_count(1)
    expect(page.locator("#facets label:has(input:checked) .name")).to_have_text(topic)
    page.go_back()
    wait_ready(page, "zzqxqzz")
    empty.get_by_role("link", name=re.compile("Browse all posts")).click()
    wait_ready(page, "")
    assert total_of(page) == 57


def test_error_answer_is_announced(page: Page) -> None:
    page.expected_console_errors.append("status of 400")  # type: ignore[attr-defined]
    page.goto("/?page=999&per_page=50")
    expect(page.locator("#results")).to_have_attribute("data-state", "error")
    expect(page.get_by_role("alert")).to_contain_text("page × per_page")


def test_related_toggle_lists_titles_with_reasons(page: Page) -> None:
    page.goto("/?q=sourdough")
    wait_ready(page, "sourdough")
    first = results_of(page).first
    toggle = first.get_by_role("button", name=re.compile("^Related"))
    toggle.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    box = first.locator(".related")
    expect(box).to_have_attribute("data-state", "ready")
    expect(box.locator("li .reason").first).to_have_text(re.compile(r"\w"))
    toggle.press("Enter")
    expect(box).to_be_hidden()


# --- hostile content --------------------------------------------------------------------


def test_a_title_that_is_html_shows_as_text_everywhere(page: Page) -> None:
    type_on_home(page, "onerror")
    expect(page.get_by_role("option", name=HOSTILE_TITLE)).to_be_visible()
    wait_ready(page, "onerror")
    link = page.locator("#results a[href$='/posts/hostile-title']")
    expect(link).to_have_text(HOSTILE_TITLE)
    expect(page.locator("main img, #suggestions img")).to_have_count(0)
    link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(HOSTILE_TITLE)
    expect(page.locator("article img, article script")).to_have_count(0)
    expect(page.locator("#related")).to_have_attribute("data-state", "ready")
    # the page fixture fails the test on any dialog, i.e. alert(1) or alert(2)


def test_html_typed_into_the_box_never_runs(page: Page) -> None:
    payload = '<img src=x onerror="window.__pwned=1">'
    page.goto("/")
    wait_ready(page, "")
    combobox(page).press_sequentially(payload)
    wait_ready(page, payload)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    expect(page.locator("main img")).to_have_count(0)
    expect(page.locator("#status")).to_contain_text(payload)


# --- post pages -------------------------------------------------------------------------


def test_post_page_shows_the_post_and_related_posts_with_reasons(page: Page) -> None:
    page.goto(f"/posts/{POST}")
    expect(page).to_have_title(re.compile(r"^Recurrent Neural Networks: Memory for Sequences"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Recurrent Neural Networks: Memory for Sequences"
    )
    expect(page.locator("article time")).to_have_attribute("datetime", re.compile("^2021-11-03"))
    expect(page.locator("article .body h2").first).to_be_visible()  # Markdown rendered
    related = page.locator("#related")
    expect(related).to_have_attribute("data-state", "ready")
    items = related.locator("li")
    expect(items).to_have_count(5)
    for item in items.all():
        expect(item.locator("a.postsearch-title")).to_have_attribute("href", re.compile(r"/posts/"))
        expect(item.locator(".postsearch-excerpt")).not_to_be_empty()
        expect(item.locator(".postsearch-reason")).to_have_text(re.compile(r"\w{3}"))
    check_accessibility(page)
    page.locator(".related-section").scroll_into_view_if_needed()
    screenshot(page, "post", full_page=True)


def test_post_page_works_with_the_keyboard_alone(page: Page) -> None:
    page.goto(f"/posts/{POST}")
    expect(page.locator("#related")).to_have_attribute("data-state", "ready")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to the post")).to_be_focused()
    target = page.locator("#related a.postsearch-title").first
    href = target.get_attribute("href")
    for _ in range(200):  # Tab through the page until the first related link
        if target.evaluate("node => node === document.activeElement"):
            break
        page.keyboard.press("Tab")
    expect(target).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(href)
    expect(page.locator("#related")).to_have_attribute("data-state", "ready")


def test_unknown_post_page_is_a_helpful_404(page: Page) -> None:
    page.expected_console_errors.append("status of 404")  # type: ignore[attr-defined]
    response = page.goto("/posts/no-such-post")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Post not found")
    expect(page.get_by_role("searchbox", name="Search the blog")).to_have_value("no such post")


# --- the widget on another origin -------------------------------------------------------


def test_widget_on_another_origin_searches_and_lists_related_posts(
    page: Page, blog_site: StaticSite, server: LiveServer
) -> None:
    api_calls: list[tuple[str, str | None]] = []
    page.on(
        "response",
        lambda r: (
            api_calls.append((r.url, r.headers.get("access-control-allow-origin")))
            if "/api/" in r.url
            else None
        ),
    )
    page.goto(blog_site.url + "/")
    related = page.locator("[data-postsearch-related]")
    expect(related).to_have_attribute("data-state", "ready")
    expect(related.locator("li")).to_have_count(5)
    expect(related.locator(".postsearch-reason").first).to_have_text(re.compile(r"\w{3}"))
    link = related.locator("a").first
    expect(link).to_have_attribute("href", re.compile(rf"^{re.escape(server.url)}/posts/"))

    search = page.locator("[data-postsearch-search]")
    box = search.get_by_role("combobox")
    box.press_sequentially("sourdough")
    expect(search.get_by_role("option").first).to_be_visible()
    box.press("Enter")
    expect(search).to_have_attribute("data-state", "ready")
    hits = search.locator(".postsearch-results li")
    expect(hits.first.locator("mark").first).to_be_visible()
    expect(hits.first.locator("a")).to_have_attribute(
        "href", re.compile(rf"^{re.escape(server.url)}/posts/sourdough")
    )
    assert api_calls and all(origin == blog_site.url for _, origin in api_calls), api_calls
    check_accessibility(page)
    screenshot(page, "widget", full_page=True)


def test_widget_on_an_origin_not_allowed_is_refused_by_cors(
    browser: Browser, server: LiveServer
) -> None:
    other = StaticSite(
        '<!doctype html><html lang="en"><head><title>x</title></head><body>'
        f'<div data-postsearch-related="{POST}"></div>'
        f'<script src="{server.url}/widget.js"></script></body></html>'
    )
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(other.url + "/")
        related = page.locator("[data-postsearch-related]")
        expect(related).to_have_attribute("data-state", "error", timeout=TIMEOUT_MS)
        expect(related).to_contain_text("Related posts are unavailable")
    finally:
        context.close()
        other.close()
