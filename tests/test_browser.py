"""The search page (api/static/index.html) driven in headless Debian Chromium via Playwright."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
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


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test`, which installs Debian's chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture()
def page(browser: Browser, live_server) -> Iterator[Page]:
    """A fresh context per test; fails the test on a page error or a request off the server."""
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    foreign: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "request", lambda r: None if r.url.startswith(live_server.url) else foreign.append(r.url)
    )
    try:
        yield page
    finally:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
    assert not foreign, f"the page requested URLs off the server: {foreign}"


def results_of(page: Page):
    return page.locator("#results > li")


def wait_ready(page: Page, query: str | None = None) -> None:
    """Wait until the page has rendered an answer (for `query` when given)."""
    results = page.locator("#results")
    if query is not None:
        expect(results).to_have_attribute("data-query", query)
    expect(results).to_have_attribute("data-state", "ready")


def total_of(page: Page) -> int:
    match = COUNT.search(page.locator("#status").inner_text())
    assert match, f"no 'N results' in the status line: {page.locator('#status').inner_text()!r}"
    return int(match.group(1))


def url_params(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def slugs(page: Page) -> list[str]:
    return results_of(page).locator("h2 a").evaluate_all("links => links.map(a => a.pathname)")


def test_home_lists_posts_and_facets(page: Page) -> None:
    page.goto("/")
    wait_ready(page, "")
    expect(page).to_have_title("postsearch")
    expect(page.get_by_role("heading", level=1)).to_have_text("postsearch")
    expect(page.get_by_role("searchbox", name="Search the blog")).to_have_value("")
    expect(page.locator("#status")).to_have_attribute("aria-live", "polite")
    assert total_of(page) > 0
    assert results_of(page).count() > 0
    expect(results_of(page).first.locator("time")).to_have_count(1)
    expect(results_of(page).first.locator(".cats li").first).not_to_be_empty()
    facets = page.locator("#facets")
    expect(facets).to_be_visible()
    assert facets.get_by_role("checkbox").count() > 0
    expect(facets.locator(".count").first).to_have_text(re.compile(r"\(\d+\)"))


def test_typing_highlights_matches_and_updates_url(page: Page) -> None:
    page.goto("/")
    wait_ready(page, "")
    page.locator("#q").press_sequentially("neural networks")
    wait_ready(page, "neural networks")
    first = results_of(page).first
    expect(first.locator("h2 a mark").first).to_be_visible()
    expect(first.locator(".snippet mark").first).to_be_visible()
    assert "/posts/" in (first.locator("h2 a").get_attribute("href") or "")
    expect(page).to_have_url(re.compile(r"[?&]q=neural"))
    assert total_of(page) > 0


def test_shared_url_restores_the_query(page: Page) -> None:
    page.goto("/?q=sourdough")
    wait_ready(page, "sourdough")
    expect(page.locator("#q")).to_have_value("sourdough")
    found = slugs(page)
    assert "/posts/sourdough-bread-for-beginners" in found[:2]
    assert "/posts/sourdough-starter-troubleshooting" in found[:2]


def test_category_facet_filters_and_is_kept_in_url(page: Page) -> None:
    page.goto("/")
    wait_ready(page, "")
    before = total_of(page)
    box = page.locator("#facets").get_by_role("checkbox", name=re.compile(r"^Cooking\b"))
    box.check()
    wait_ready(page)
    expect(page).to_have_url(re.compile(r"[?&]category=cooking"))
    after = total_of(page)
    assert 0 < after < before
    expect(box).to_be_checked()
    expect(box).to_be_focused()  # re-rendering the facets keeps keyboard focus
    for item in results_of(page).all():
        names = [n.lower() for n in item.locator(".cats li").all_inner_texts()]
        assert "cooking" in names, names
    shown = slugs(page)
    page.reload()
    wait_ready(page, "")
    expect(
        page.locator("#facets").get_by_role("checkbox", name=re.compile(r"^Cooking\b"))
    ).to_be_checked()
    assert slugs(page) == shown


def test_no_match_shows_the_empty_state(page: Page) -> None:
    page.goto("/")
    wait_ready(page, "")
    page.locator("#q").press_sequentially("zzqxqzz")
    wait_ready(page, "zzqxqzz")
    expect(page.locator("#empty")).to_be_visible()
    expect(page.locator("#empty")).to_contain_text("No posts match “zzqxqzz”")
    expect(page.locator("#empty")).to_contain_text("fewer words")
    expect(results_of(page)).to_have_count(0)
    expect(page.locator("#status")).to_contain_text("0 results")


def test_html_in_queries_and_posts_never_runs(page: Page) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    payload = '<img src=x onerror="window.__pwned=1">'
    page.goto("/")
    wait_ready(page, "")
    page.locator("#q").press_sequentially(payload)
    wait_ready(page, payload)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    expect(page.locator("#results img")).to_have_count(0)
    expect(page.locator("main img")).to_have_count(0)
    expect(page.locator("#status")).to_contain_text(payload)  # shown as text

    page.locator("#q").fill("sanitising")
    wait_ready(page, "sanitising")
    expect(
        page.locator("#results a[href='/posts/sanitising-user-html-without-breaking-it']")
    ).to_have_count(1)
    expect(page.locator("#results script")).to_have_count(0)
    page.locator("#q").fill('alert("xss") script')
    wait_ready(page, 'alert("xss") script')
    expect(page.locator("#results script, #results img")).to_have_count(0)
    assert dialogs == []
    assert page.evaluate("typeof window.__pwned") == "undefined"


def test_related_toggle_lists_titles_with_reasons(page: Page) -> None:
    page.goto("/?q=sourdough")
    wait_ready(page, "sourdough")
    first = results_of(page).first
    toggle = first.get_by_role("button", name=re.compile("^Related"))
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    box = first.locator(".related")
    expect(box).to_have_attribute("data-state", "ready")
    items = box.locator("li")
    assert 1 <= items.count() <= 3
    expect(items.first.locator("a")).not_to_be_empty()
    assert "/posts/" in (items.first.locator("a").get_attribute("href") or "")
    expect(items.first.locator(".reason")).to_have_text(re.compile(r"\w"))
    toggle.press("Enter")  # keyboard closes it again
    expect(box).to_be_hidden()


def test_next_and_prev_page_through_results(page: Page) -> None:
    page.goto("/?q=&per_page=5")
    wait_ready(page, "")
    assert total_of(page) > 5
    expect(results_of(page)).to_have_count(5)
    expect(page.locator("#prev")).to_be_disabled()
    first_page = slugs(page)
    page.get_by_role("button", name=re.compile("Next")).click()
    wait_ready(page, "")
    expect(page.locator("#page-info")).to_have_text(re.compile(r"^Page 2 of"))
    assert url_params(page).get("page") == ["2"]
    assert url_params(page).get("per_page") == ["5"]
    second_page = slugs(page)
    assert len(second_page) == 5
    assert not set(first_page) & set(second_page)
    page.go_back()  # the page change was pushed to the history
    wait_ready(page, "")
    expect(page.locator("#page-info")).to_have_text(re.compile(r"^Page 1 of"))
    assert slugs(page) == first_page
    assert "page" not in url_params(page)


def test_error_answer_is_announced(page: Page) -> None:
    page.goto("/?page=999&per_page=50")  # beyond the server's result window: a 400
    expect(page.locator("#results")).to_have_attribute("data-state", "error")
    expect(page.get_by_role("alert")).to_contain_text("page × per_page")
    expect(results_of(page)).to_have_count(0)
