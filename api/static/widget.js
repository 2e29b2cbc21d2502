/* postsearch widget: a search box and a related-posts list for any page, no dependencies.
 *
 *   <div data-postsearch-search></div>
 *   <div data-postsearch-related="SLUG"></div>
 *   <script src="https://search.example.com/widget.js" defer></script>
 *
 * The API is the origin this script was loaded from (or `data-postsearch-api` on an
 * element); the server must list the page's origin in POSTSEARCH_CORS_ORIGINS.
 * Options on the elements: data-postsearch-limit (results shown), and on the search
 * box data-postsearch-placeholder. Restyle with the --postsearch-* CSS variables on
 * .postsearch (see STYLE below) or any rule of your own: the classes are stable.
 *
 * Everything the API returns is inserted as text, except `title_html` and `snippet`,
 * which the server escapes before wrapping matches in <mark>.
 */
(function () {
  "use strict";
  if (window.PostSearch) return; // loaded twice: the first copy already mounts

  var script = document.currentScript;
  var DEFAULT_API = script && script.src ? new URL(script.src, location.href).origin : location.origin;
  var DEBOUNCE_MS = 150;
  var uid = 0;

  var STYLE = [
    ".postsearch{--postsearch-font:inherit;--postsearch-text:#1d2330;--postsearch-muted:#555d6b;",
    "--postsearch-accent:#0b57d0;--postsearch-bg:#fff;--postsearch-border:#c4c9d2;",
    "--postsearch-active-bg:#e8f0fe;--postsearch-mark-bg:#fff0a8;--postsearch-radius:8px;",
    "font-family:var(--postsearch-font);color:var(--postsearch-text);position:relative}",
    ".postsearch a{color:var(--postsearch-accent)}",
    ".postsearch mark{background:var(--postsearch-mark-bg);color:inherit;padding:0 .1em}",
    ".postsearch-input{box-sizing:border-box;width:100%;font:inherit;font-size:1rem;",
    "padding:.5rem .7rem;border:1px solid var(--postsearch-border);border-radius:var(--postsearch-radius);",
    "background:var(--postsearch-bg);color:var(--postsearch-text)}",
    ".postsearch-listbox{position:absolute;z-index:10;left:0;right:0;margin:.2rem 0 0;padding:.25rem 0;",
    "list-style:none;background:var(--postsearch-bg);border:1px solid var(--postsearch-border);",
    "border-radius:var(--postsearch-radius);box-shadow:0 6px 18px rgba(0,0,0,.12)}",
    ".postsearch-listbox[hidden]{display:none}",
    ".postsearch-option{padding:.35rem .7rem;cursor:pointer}",
    ".postsearch-option[aria-selected=true]{background:var(--postsearch-active-bg)}",
    ".postsearch-option .postsearch-kind{color:var(--postsearch-muted);font-size:.8em;margin-left:.4em}",
    ".postsearch-results,.postsearch-related-list{list-style:none;margin:.6rem 0 0;padding:0}",
    ".postsearch-results li,.postsearch-related-list li{padding:.5rem 0;border-top:1px solid var(--postsearch-border)}",
    ".postsearch-title{font-weight:600}",
    ".postsearch-excerpt,.postsearch-snippet{margin:.2rem 0 0}",
    ".postsearch-reason,.postsearch-status{color:var(--postsearch-muted);font-size:.9em;margin:.2rem 0 0}",
  ].join("");

  function injectStyle() {
    if (document.getElementById("postsearch-style")) return;
    var style = document.createElement("style");
    style.id = "postsearch-style";
    style.textContent = STYLE;
    // First in <head>, so any rule of the site's own wins over ours.
    document.head.insertBefore(style, document.head.firstChild);
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function apiOf(node) {
    return (node.getAttribute("data-postsearch-api") || DEFAULT_API).replace(/\/+$/, "");
  }

  // Only http(s) links, resolved against the API (result urls may be relative).
  function safeUrl(url, api) {
    try {
      var resolved = new URL(url, api + "/");
      return resolved.protocol === "http:" || resolved.protocol === "https:" ? resolved.href : "#";
    } catch (err) {
      return "#";
    }
  }

  function getJson(url, signal) {
    return fetch(url, { signal: signal, headers: { Accept: "application/json" }, credentials: "omit" })
      .catch(function (err) {
        if (err.name === "AbortError") throw err;
        throw new Error("Could not reach the search service.");
      })
      .then(function (response) {
        return response.json().catch(function () { return null; }).then(function (body) {
          if (!response.ok) {
            throw new Error((body && body.error && body.error.message) || "The server answered " + response.status + ".");
          }
          return body;
        });
      });
  }

  /* A WAI-ARIA 1.2 combobox over a text input with a listbox popup.
   * options.fetch(text) -> Promise of [{label, kind, value, href}]; options.onPick(option)
   * runs on Enter or a click on an option; options.onInput(text) runs, debounced, on typing;
   * options.onSubmit(text) on Enter with no option active. */
  function combobox(input, listbox, options) {
    var items = [], active = -1, timer = 0, seq = 0;
    listbox.id = listbox.id || "postsearch-listbox-" + ++uid;
    listbox.setAttribute("role", "listbox");
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listbox.id);
    input.setAttribute("autocomplete", "off");
    listbox.hidden = true;

    function open(show) {
      var visible = show && items.length > 0;
      listbox.hidden = !visible;
      input.setAttribute("aria-expanded", String(visible));
      if (!visible) setActive(-1);
    }

    function setActive(index) {
      active = index;
      var nodes = listbox.children;
      for (var i = 0; i < nodes.length; i++) nodes[i].setAttribute("aria-selected", String(i === index));
      if (index >= 0 && nodes[index]) {
        input.setAttribute("aria-activedescendant", nodes[index].id);
        nodes[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function render(list) {
      items = list;
      listbox.replaceChildren();
      list.forEach(function (item, i) {
        var option = el("li", "postsearch-option", item.label);
        option.id = listbox.id + "-" + i;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.dataset.kind = item.kind;
        if (item.kindLabel) option.append(el("span", "postsearch-kind", item.kindLabel));
        // mousedown would blur the input and close the list before the click lands.
        option.addEventListener("mousedown", function (event) { event.preventDefault(); });
        option.addEventListener("click", function () { pick(i); });
        listbox.append(option);
      });
      active = -1;
      input.removeAttribute("aria-activedescendant");
      open(document.activeElement === input);
    }

    function pick(index) {
      var item = items[index];
      open(false);
      if (item) options.onPick(item);
    }

    function refresh() {
      var text = input.value;
      var id = ++seq;
      if (!text.trim()) { render([]); return; }
      options.fetch(text).then(function (list) {
        if (id === seq) render(list);
      }, function () {
        if (id === seq) render([]);
      });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        refresh();
        if (options.onInput) options.onInput(input.value);
      }, DEBOUNCE_MS);
    });
    input.addEventListener("keydown", function (event) {
      var expanded = !listbox.hidden;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (!expanded) { open(true); if (event.altKey) return; }
        if (items.length) setActive(active + 1 >= items.length ? 0 : active + 1);
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        if (!expanded) open(true);
        if (items.length) setActive(active <= 0 ? items.length - 1 : active - 1);
      } else if (event.key === "Enter") {
        event.preventDefault();
        clearTimeout(timer);
        if (expanded && active >= 0) pick(active);
        else { open(false); options.onSubmit(input.value); }
      } else if (event.key === "Escape") {
        if (expanded) { event.preventDefault(); open(false); }
        else if (input.value) { event.preventDefault(); input.value = ""; render([]); if (options.onInput) options.onInput(""); }
      } else if (event.key === "Tab") {
        open(false);
      }
    });
    input.addEventListener("blur", function () { open(false); });
    input.addEventListener("focus", function () { if (items.length) open(true); });

    return {
      close: function () { open(false); clearTimeout(timer); },
      refresh: refresh,
    };
  }

  // Completions of the last word, then posts whose titles match.
  function suggestions(api, text) {
    var url = api + "/api/suggest?limit=5&posts=4&q=" + encodeURIComponent(text);
    return getJson(url).then(function (data) {
      var list = data.completions.map(function (c) {
        return { kind: "completion", label: c.text, value: c.text };
      });
      data.posts.forEach(function (p) {
        list.push({ kind: "post", label: p.title, kindLabel: "post", href: safeUrl(p.url, api) });
      });
      return list;
    });
  }

  function hitItem(hit, api) {
    var item = el("li");
    var link = el("a", "postsearch-title");
    link.href = safeUrl(hit.url, api);
    link.innerHTML = hit.title_html; // escaped by the server, <mark> around matches
    var snippet = el("p", "postsearch-snippet");
    snippet.innerHTML = hit.snippet; // escaped by the server, <mark> around matches
    item.append(link, snippet);
    return item;
  }

  function mountSearch(root) {
    if (root.dataset.postsearchMounted) return;
    root.dataset.postsearchMounted = "1";
    injectStyle();
    var api = apiOf(root);
    var limit = Math.min(20, parseInt(root.getAttribute("data-postsearch-limit"), 10) || 5);
    var n = ++uid;
    root.classList.add("postsearch", "postsearch-search");
    var form = el("form");
    form.setAttribute("role", "search");
    var label = el("label", "postsearch-label", root.getAttribute("data-postsearch-label") || "Search the blog");
    var input = el("input", "postsearch-input");
    input.type = "search";
    input.id = "postsearch-q-" + n;
    label.htmlFor = input.id;
    input.placeholder = root.getAttribute("data-postsearch-placeholder") || "Search…";
    var listbox = el("ul", "postsearch-listbox");
    listbox.setAttribute("aria-label", "Suggestions");
    var status = el("p", "postsearch-status");
    status.setAttribute("role", "status");
    var results = el("ul", "postsearch-results");
    results.setAttribute("aria-label", "Search results");
    form.append(label, input, listbox);
    root.replaceChildren(form, status, results);
    var controller = null;

    function run(text, prefix) {
      if (controller) controller.abort();
      if (!text.trim()) { results.replaceChildren(); status.textContent = ""; return; }
      controller = new AbortController();
      var url = api + "/api/search?per_page=" + limit + (prefix ? "&prefix=1" : "") + "&q=" + encodeURIComponent(text);
      root.dataset.state = "loading";
      getJson(url, controller.signal).then(function (data) {
        results.replaceChildren.apply(results, data.results.map(function (hit) { return hitItem(hit, api); }));
        status.textContent = data.total === 0
          ? "No posts match “" + data.query + "”."
          : data.total + " result" + (data.total === 1 ? "" : "s") + (data.corrected_query ? " for “" + data.corrected_query + "”" : "");
        root.dataset.state = "ready";
      }, function (err) {
        if (err.name === "AbortError") return;
        status.textContent = "Search failed: " + err.message;
        root.dataset.state = "error";
      });
    }

    combobox(input, listbox, {
      fetch: function (text) { return suggestions(api, text); },
      onInput: function (text) { run(text, true); },
      onSubmit: function (text) { run(text, false); },
      onPick: function (item) {
        if (item.kind === "post") { location.href = item.href; return; }
        input.value = item.value;
        run(item.value, false);
      },
    });
    form.addEventListener("submit", function (event) { event.preventDefault(); run(input.value, false); });
  }

  function mountRelated(root) {
    if (root.dataset.postsearchMounted) return;
    root.dataset.postsearchMounted = "1";
    injectStyle();
    var api = apiOf(root);
    var slug = root.getAttribute("data-postsearch-related");
    var limit = Math.min(20, parseInt(root.getAttribute("data-postsearch-limit"), 10) || 5);
    root.classList.add("postsearch", "postsearch-related");
    root.dataset.state = "loading";
    root.setAttribute("aria-busy", "true");
    var url = api + "/api/posts/" + encodeURIComponent(slug) + "/related?limit=" + limit;
    getJson(url).then(function (data) {
      if (!data.results.length) {
        root.replaceChildren(el("p", "postsearch-status", "No related posts yet."));
      } else {
        var list = el("ul", "postsearch-related-list");
        data.results.forEach(function (post) {
          var item = el("li");
          var link = el("a", "postsearch-title", post.title);
          link.href = safeUrl(post.url, api);
          item.append(link, el("p", "postsearch-excerpt", post.excerpt), el("p", "postsearch-reason", post.reason));
          list.append(item);
        });
        root.replaceChildren(list);
      }
      root.dataset.state = "ready";
    }, function (err) {
      root.replaceChildren(el("p", "postsearch-status", "Related posts are unavailable: " + err.message));
      root.dataset.state = "error";
    }).then(function () { root.removeAttribute("aria-busy"); });
  }

  function mount(scope) {
    var base = scope || document;
    base.querySelectorAll("[data-postsearch-search]").forEach(mountSearch);
    base.querySelectorAll("[data-postsearch-related]").forEach(mountRelated);
  }

  window.PostSearch = {
    mount: mount, combobox: combobox, suggestions: suggestions, safeUrl: safeUrl, injectStyle: injectStyle,
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { mount(); });
  else mount();
})();
