/* The search page (/): instant search, suggestions, facets, corrections and paging.
 *
 * All state lives in the URL (?q=&page=&per_page=&sort=&correct=0&category=&tag=&author=
 * &year=), so a search can be shared and the back button walks through searches. While
 * the reader types, results come with `prefix=1` (the last word is unfinished) and the
 * URL is replaced; the first keystroke after a finished search pushes a new entry.
 * The combobox (WAI-ARIA 1.2 pattern) comes from /widget.js, loaded before this file.
 */
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const form = $("search-form"), input = $("q"), listbox = $("suggestions");
  const statusLine = $("status"), errorBox = $("error"), note = $("note"), correction = $("correction");
  const layout = $("layout"), facets = $("facets"), facetGroups = $("facet-groups"), clearButton = $("facet-clear");
  const sortSelect = $("sort"), results = $("results"), empty = $("empty"), pager = $("pager");
  const prevButton = $("prev"), nextButton = $("next"), pageInfo = $("page-info");
  const { combobox, suggestions, safeUrl, injectStyle } = window.PostSearch;
  const API = location.origin;

  const FACETS = [  // [API facet name, query parameter, legend]
    ["categories", "category", "Categories"],
    ["tags", "tag", "Tags"],
    ["authors", "author", "Authors"],
    ["years", "year", "Years"],
  ];
  const FACETS_SHOWN = 8, RELATED_LIMIT = 3;
  const LEVELS = ["general", "medium", "specific", "niche", "exact"];
  const FALLBACK_NOTES = {
    any_word: "No post matched your whole phrase, so these results match any of its words.",
  };

  const state = { q: "", page: 1, perPage: null, sort: "relevance", correct: true, filters: {} };
  const names = new Map();  // "param\0value" -> display name, remembered across answers
  const expanded = new Set();  // facets showing every value
  let lastFacets = {}, seq = 0, controller = null, lastKey = null, pushNext = false;

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  const positive = (raw) => (/^\d{1,6}$/.test(raw || "") && +raw > 0 ? +raw : null);

  function readUrl() {
    const params = new URLSearchParams(location.search);
    state.q = params.get("q") || "";
    state.page = positive(params.get("page")) || 1;
    state.perPage = positive(params.get("per_page"));
    state.sort = params.get("sort") === "newest" ? "newest" : "relevance";
    state.correct = params.get("correct") !== "0";
    state.filters = {};
    for (const [, param] of FACETS) {
      const values = params.getAll(param).flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean);
      state.filters[param] = [...new Set(values)];
    }
    input.value = state.q;
    sortSelect.value = state.sort;
  }

  function urlParams() {
    const params = new URLSearchParams();
    if (state.q.trim()) params.set("q", state.q.trim());
    if (state.page > 1) params.set("page", state.page);
    if (state.perPage) params.set("per_page", state.perPage);
    if (state.sort !== "relevance") params.set("sort", state.sort);
    if (!state.correct) params.set("correct", "0");
    for (const [, param] of FACETS) for (const value of state.filters[param] || []) params.append(param, value);
    return params;
  }

  function hasFilters() {
    return FACETS.some(([, param]) => (state.filters[param] || []).length > 0);
  }

  function writeUrl(query, push) {
    const url = location.pathname + (query ? "?" + query : "");
    if (url === location.pathname + location.search) return;
    history[push ? "pushState" : "replaceState"](null, "", url);
  }

  async function getJson(url, signal) {
    let response;
    try {
      response = await fetch(url, { signal, headers: { Accept: "application/json" } });
    } catch (err) {
      if (err.name === "AbortError") throw err;
      throw new Error("Could not reach the search service. Check your connection and try again.");
    }
    const body = await response.json().catch(() => null);
    if (!response.ok) throw new Error(body?.error?.message || `The server answered ${response.status}.`);
    return body;
  }

  /* Run the search in `state`. typing: the reader is still typing (prefix=1, URL replaced
   * except on the first keystroke after a finished search). push: a new history entry. */
  async function search({ push = false, typing = false, force = false } = {}) {
    const params = urlParams();
    const query = params.toString();
    // A new history entry for every finished search, and for the first keystroke after
    // one; the rest of the typing replaces that entry.
    writeUrl(query, push || pushNext);
    pushNext = !typing;
    if (typing && state.q.trim()) params.set("prefix", "1");
    const key = params.toString();
    if (key === lastKey && !force) return;
    lastKey = key;
    controller?.abort();
    controller = new AbortController();
    const id = ++seq;
    results.setAttribute("aria-busy", "true");
    results.dataset.state = "loading";
    try {
      const data = await getJson("/api/search?" + key, controller.signal);
      if (id === seq) render(data);
    } catch (err) {
      if (err.name !== "AbortError" && id === seq) showError(err.message);
    }
  }

  function showError(message) {
    lastKey = null;  // let the same search be retried
    errorBox.textContent = `Search failed: ${message}`;
    statusLine.textContent = "";
    note.hidden = correction.hidden = empty.hidden = pager.hidden = true;
    results.replaceChildren();
    results.setAttribute("aria-busy", "false");
    results.dataset.state = "error";
  }

  function render(data) {
    const { total, page, per_page: perPage } = data;
    const pages = Math.max(1, Math.ceil(total / perPage));
    const count = `${total} result${total === 1 ? "" : "s"}`;
    const searched = data.corrected_query || data.query;
    errorBox.textContent = "";
    statusLine.textContent = (data.query ? `${count} for “${searched}”` : `${count}, newest first`)
      + (pages > 1 ? ` · page ${page} of ${pages}` : "");

    renderCorrection(data);
    const notes = [];
    if (data.fallback && data.fallback !== "corrected" && total > 0) {
      notes.push(FALLBACK_NOTES[data.fallback] || "Your query was simplified.");
    }
    if (data.partial) notes.push("The search took too long, so these results may be incomplete.");
    note.textContent = notes.join(" ");
    note.hidden = notes.length === 0;

    results.replaceChildren(...data.results.map(resultItem));
    renderEmpty(data, pages);
    lastFacets = data.facets || {};
    renderFacets();

    pager.hidden = pages <= 1;
    prevButton.disabled = page <= 1;
    nextButton.disabled = page >= pages;
    pageInfo.textContent = `Page ${page} of ${pages}`;

    results.dataset.query = data.query;
    results.dataset.state = "ready";
    results.setAttribute("aria-busy", "false");
  }

  function searchLink(label, update) {
    const link = el("a", "", label);
    const next = { ...state, page: 1, correct: true, ...update };
    const saved = { ...state };
    Object.assign(state, next);
    link.href = "/?" + urlParams().toString();
    Object.assign(state, saved);
    link.addEventListener("click", (event) => {
      event.preventDefault();
      Object.assign(state, next);
      input.value = state.q;
      search({ push: true });
      input.focus();
    });
    return link;
  }

  // "Showing results for X. Search instead for Y" and "Did you mean Z?"
  function renderCorrection(data) {
    correction.replaceChildren();
    if (data.corrected_query && data.corrected_query !== data.query) {
      correction.append("Showing results for ", el("strong", "", data.corrected_query), ". Search instead for ",
        searchLink(data.query, { q: data.query, correct: false }), ".");
    } else if (data.suggestion) {
      correction.append("Did you mean ", searchLink(data.suggestion, { q: data.suggestion }), "?");
    }
    correction.hidden = correction.childNodes.length === 0;
  }

  function renderEmpty(data, pages) {
    empty.replaceChildren();
    empty.hidden = data.results.length > 0;
    if (empty.hidden) return;
    if (data.total > 0) {  // a page past the end, e.g. from an old link
      empty.append(`Page ${data.page} is past the last page (${pages}). `);
      const first = el("button", "", "Go to page 1");
      first.type = "button";
      first.addEventListener("click", () => goToPage(1));
      empty.append(first);
      return;
    }
    const filtered = hasFilters();
    const what = data.query ? `No posts match “${data.query}”${filtered ? " with these filters" : ""}.`
      : "No posts match these filters.";
    empty.append(el("p", "", what));
    const tips = el("ul");
    if (data.suggestion) {
      const tip = el("li", "", "Try ");
      tip.append(searchLink(data.suggestion, { q: data.suggestion }), ".");
      tips.append(tip);
    }
    tips.append(el("li", "", "Try fewer words, another spelling, or a more general term."));
    tips.append(el("li", "", "Put a phrase in quotes only when the words must be side by side."));
    empty.append(tips);
    const actions = el("p");
    if (filtered) {
      const clear = el("button", "", "Clear the filters");
      clear.type = "button";
      clear.addEventListener("click", clearFilters);
      actions.append(clear, " ");
    }
    actions.append(searchLink("Browse all posts, newest first", { q: "", filters: {} }));
    empty.append(actions);
    suggestCategories();
  }

  // The blog's broadest categories, as a way in when a search found nothing.
  async function suggestCategories() {
    let data;
    try {
      data = await getJson("/api/search?per_page=1");
    } catch {
      return;  // the empty state still helps without them
    }
    const general = (data.facets?.categories || []).filter((c) => c.level === "general").slice(0, 6);
    if (!general.length || empty.hidden || empty.querySelector(".browse")) return;
    const line = el("p", "browse", "Or browse a topic: ");
    general.forEach((category, i) => {
      if (i) line.append(", ");
      line.append(searchLink(category.name, { q: "", filters: { category: [category.value] } }));
    });
    empty.append(line);
  }

  function categoryNames(categories) {
    const seen = new Set(), out = [];
    const sorted = [...categories].sort((a, b) => LEVELS.indexOf(a.level) - LEVELS.indexOf(b.level));
    for (const { name } of sorted) {
      const key = name.toLowerCase();
      if (!seen.has(key)) { seen.add(key); out.push(name); }
    }
    return out;
  }

  function formatDate(iso) {
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return iso;
    return date.toLocaleDateString("en", { year: "numeric", month: "short", day: "numeric", timeZone: "UTC" });
  }

  function resultItem(hit, index) {
    const item = el("li", "result");
    const heading = el("h2");
    const link = el("a");
    link.href = safeUrl(hit.url, API);
    link.innerHTML = hit.title_html;  // escaped by the server, <mark> around matches
    heading.append(link);

    const meta = el("p", "meta");
    if (hit.date) {
      const time = el("time", "", formatDate(hit.date));
      time.dateTime = hit.date;
      meta.append(time);
    }
    const cats = categoryNames(hit.categories || []);
    if (cats.length) {
      const list = el("ul", "cats");
      list.setAttribute("aria-label", "Categories");
      list.append(...cats.map((name) => el("li", "", name)));
      meta.append(list);
    }
    const snippet = el("p", "snippet");
    snippet.innerHTML = hit.snippet;  // escaped by the server, <mark> around matches

    const toggle = el("button", "related-toggle", "Related");
    toggle.type = "button";
    toggle.append(el("span", "vh", ` posts to “${hit.title}”`));
    const box = el("div", "related");
    box.id = `related-${index}`;
    box.hidden = true;
    toggle.setAttribute("aria-controls", box.id);
    toggle.setAttribute("aria-expanded", "false");
    toggle.addEventListener("click", () => toggleRelated(hit.slug, toggle, box));
    item.append(heading, meta, snippet, toggle, box);
    return item;
  }

  async function toggleRelated(slug, toggle, box) {
    const open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    box.hidden = !open;
    if (!open || box.dataset.state === "loading" || box.dataset.state === "ready") return;
    box.dataset.state = "loading";
    box.textContent = "Loading related posts…";
    try {
      const data = await getJson(`/api/posts/${encodeURIComponent(slug)}/related?limit=${RELATED_LIMIT}`);
      if (!data.results.length) {
        box.textContent = "No related posts.";
      } else {
        const list = el("ul");
        for (const post of data.results) {
          const item = el("li");
          const link = el("a", "", post.title);
          link.href = safeUrl(post.url, API);
          item.append(link, el("span", "reason", post.reason));
          list.append(item);
        }
        box.replaceChildren(list);
      }
      box.dataset.state = "ready";
    } catch (err) {
      box.textContent = `Related posts are unavailable: ${err.message}`;
      box.dataset.state = "error";  // a later click tries again
    }
  }

  function renderFacets() {
    const focused = facetGroups.contains(document.activeElement) ? document.activeElement : null;
    const focusKey = focused ? [focused.name, focused.value, focused.className] : null;
    const groups = [];
    for (const [facet, param, legendText] of FACETS) {
      const values = [...(lastFacets[facet] || [])];
      for (const { name, value } of values) names.set(param + "\0" + value, name);
      const selected = new Set(state.filters[param] || []);
      for (const value of selected) {  // keep checked boxes even when nothing matches them
        if (!values.some((f) => f.value === value)) {
          values.push({ name: names.get(param + "\0" + value) || value, value, count: 0 });
        }
      }
      if (!values.length) continue;
      const showAll = expanded.has(param);
      const shown = values.filter((f, i) => showAll || i < FACETS_SHOWN || selected.has(f.value));
      const fieldset = el("fieldset");
      fieldset.append(el("legend", "", legendText));
      const list = el("ul", "facet-list");
      list.id = `facet-${param}`;
      for (const facet of shown) {
        const item = el("li"), label = el("label"), box = el("input");
        box.type = "checkbox";
        box.name = param;
        box.value = facet.value;
        box.checked = selected.has(facet.value);
        label.append(box, el("span", "name", facet.name));
        if (facet.level) label.append(el("span", "level", facet.level));
        label.append(el("span", "count", `(${facet.count})`));
        item.append(label);
        list.append(item);
      }
      fieldset.append(list);
      if (values.length > FACETS_SHOWN) {
        const more = el("button", "facet-more", showAll ? `Fewer ${legendText.toLowerCase()}` : `All ${values.length} ${legendText.toLowerCase()}`);
        more.type = "button";
        more.name = param;
        more.setAttribute("aria-controls", list.id);
        more.setAttribute("aria-expanded", String(showAll));
        more.addEventListener("click", () => {
          if (showAll) expanded.delete(param); else expanded.add(param);
          renderFacets();
        });
        fieldset.append(more);
      }
      groups.push(fieldset);
    }
    facetGroups.replaceChildren(...groups);
    if (focusKey) {  // re-rendering must not throw keyboard focus away
      const [name, value, className] = focusKey;
      const again = [...facetGroups.querySelectorAll("input, button")].find(
        (node) => node.name === name && (node.value === value || className === "facet-more") && node.className === className,
      );
      again?.focus();
    }
    facets.hidden = groups.length === 0;
    layout.classList.toggle("no-facets", facets.hidden);
    clearButton.hidden = !hasFilters();
  }

  function clearFilters() {
    state.filters = {};
    state.page = 1;
    search({ push: true });
    input.focus();
  }

  function goToPage(page) {
    state.page = page;
    search({ push: true }).then(() => {
      statusLine.focus({ preventScroll: true });
      statusLine.scrollIntoView({ block: "nearest" });
    });
  }

  function commit(text) {
    state.q = text;
    state.page = 1;
    state.correct = true;
    search({ push: false });
  }

  combobox(input, listbox, {
    fetch: (text) => suggestions(API, text),
    onInput: (text) => {
      state.q = text;
      state.page = 1;
      state.correct = true;
      search({ typing: true });
    },
    onSubmit: commit,
    onPick: (item) => {
      if (item.kind === "post") { location.href = item.href; return; }
      input.value = item.value;
      commit(item.value);
    },
  });
  form.addEventListener("submit", (event) => { event.preventDefault(); commit(input.value); });

  facetGroups.addEventListener("change", (event) => {
    const { name, value, checked } = event.target;
    const current = state.filters[name] || [];
    state.filters[name] = checked ? [...current, value] : current.filter((v) => v !== value);
    state.page = 1;
    search({ push: true });
  });
  clearButton.addEventListener("click", clearFilters);
  sortSelect.addEventListener("change", () => {
    state.sort = sortSelect.value;
    state.page = 1;
    search({ push: true });
  });
  prevButton.addEventListener("click", () => goToPage(Math.max(1, state.page - 1)));
  nextButton.addEventListener("click", () => goToPage(state.page + 1));

  window.addEventListener("popstate", () => {
    readUrl();
    pushNext = true;
    search();
  });

  injectStyle();
  readUrl();
  pushNext = true;
  search();
})();
