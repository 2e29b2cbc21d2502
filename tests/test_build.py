"""Building and publishing an index: counts, reports, artifacts, atomic swaps, the lock."""

from __future__ import annotations

import datetime as dt
import importlib
import json
import os
import resource
import shutil
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from whoosh import index as whoosh_index

from index import BuildOptions, NothingToBuild, PostsSkipped, ReindexLocked, build
from index import beside as beside_module
from index.errors import BuildCorrupt
from index.manifest import verify_build
from index.store import current_build_dir, writer_lock
from search import PostMoved, Searcher, SearchRequest
from tests.conftest import BIN, SAMPLE_POSTS, seed_front, shared_dir, write_post


def small_corpus(folder: Path) -> Path:
    """Three visible posts, a draft, a scheduled post and a broken file."""
    write_post(
        folder,
        "alpha.md",
        seed_front("alpha", "Alpha raccoons", "Zoology", "Mammals", "Procyonids", "Raccoons"),
        "Raccoons wash food.",
    )
    write_post(
        folder,
        "beta.md",
        seed_front("beta", "Beta otters", "Zoology", "Mammals", "Mustelids", "Otters"),
        "Otters hold hands.",
    )
    write_post(
        folder,
        "sub/gamma.markdown",
        seed_front("gamma", "Gamma herons", "Zoology", "Birds", "Waders", "Herons"),
        "Herons fish alone.",
    )
    write_post(folder, "draft.md", {"title": "Secret", "draft": True}, "Hidden words here.")
    write_post(folder, "future.md", {"title": "Later", "date": "2999-01-01"}, "Not yet.")
    (folder / "broken.md").write_text("---\ntitle: [unclosed\n---\nbody\n", encoding="utf-8")
    return folder


def test_build_counts_hidden_and_skipped_posts(tmp_path: Path) -> None:
    result = build(small_corpus(tmp_path / "posts"), tmp_path / "index")
    assert (result.files, result.indexed, result.drafts, result.scheduled) == (6, 4, 1, 1)
    assert [(e.path, e.reason.split(":")[0]) for e in result.skipped] == [
        ("broken.md", "invalid YAML front matter")
    ]
    manifest = json.loads((result.build_dir / "manifest.json").read_text())
    assert manifest["counts"] == {"files": 6, "indexed": 4, "drafts": 1, "skipped": 1}
    assert [s["slug"] for s in manifest["scheduled"]] == ["future"]
    files = manifest["files"]
    assert files["sub/gamma.markdown"]["slug"] == "gamma"
    assert files["draft.md"]["state"] == "draft"
    assert len(files["alpha.md"]["sha256"]) == 64 and files["alpha.md"]["size"] > 0
    assert files["broken.md"]["state"] == "skipped"
    assert files["broken.md"]["reason"].startswith("invalid YAML")
    assert manifest["mode"] == "full"
    assert manifest["settings"]["related"]["neighbours"] >= 20


def test_drafts_are_not_indexed_and_scheduled_posts_wait(tmp_path: Path) -> None:
    result = build(small_corpus(tmp_path / "posts"), tmp_path / "index")
    with Searcher(tmp_path / "index") as searcher:
        assert searcher.search(SearchRequest(q="secret hidden")).total == 0
        assert searcher.search(SearchRequest(q="later")).total == 0
        after = dt.datetime(3000, 1, 1, tzinfo=dt.UTC)
        found = searcher.search(SearchRequest(q="later"), now=after).hits
        assert [h.slug for h in found] == ["future"]
    assert result.build_dir is not None


def test_artifacts_are_npz_and_json_without_pickle(tmp_path: Path) -> None:
    result = build(small_corpus(tmp_path / "posts"), tmp_path / "index")
    ours = [p for p in result.build_dir.iterdir() if p.is_file()]
    assert {p.suffix for p in ours} == {".npz", ".json", ".jsonl"}
    for path in ours:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as data:
                for name in data.files:
                    assert data[name].dtype != object
        elif path.suffix == ".jsonl":  # one JSON value per post: a record, text or HTML
            lines = path.read_text(encoding="utf-8").splitlines()
            kind = dict if path.name == "posts.jsonl" else str
            assert lines and all(isinstance(json.loads(line), kind) for line in lines)
        else:
            json.loads(path.read_text(encoding="utf-8"))
    assert not [p for p in result.build_dir.rglob("*") if p.suffix in (".pkl", ".joblib")]
    with np.load(result.build_dir / "related.npz", allow_pickle=False) as related:
        assert related["neighbours"].shape == (4, 3)


def test_unchanged_corpus_rewrites_nothing_and_full_forces_a_build(tmp_path: Path) -> None:
    posts, index_dir = small_corpus(tmp_path / "posts"), tmp_path / "index"
    first = build(posts, index_dir)
    again = build(posts, index_dir)
    assert not again.changed and again.build_id == first.build_id
    forced = build(posts, index_dir, BuildOptions(full=True))
    assert forced.changed and forced.build_id != first.build_id
    write_post(posts, "delta.md", {"title": "Delta"}, "New words.")
    changed = build(posts, index_dir)
    assert changed.changed and changed.indexed == 5
    assert current_build_dir(index_dir) == changed.build_dir


def test_old_builds_are_pruned_after_the_grace_period(tmp_path: Path) -> None:
    posts, index_dir = small_corpus(tmp_path / "posts"), tmp_path / "index"
    options = BuildOptions(full=True, keep_builds=2, grace_seconds=0)
    dirs = [build(posts, index_dir, options).build_dir for _ in range(4)]
    remaining = sorted(p.name for p in (index_dir / "builds").iterdir())
    assert remaining == sorted(d.name for d in dirs[-2:])
    kept = BuildOptions(full=True, keep_builds=1, grace_seconds=3600)
    build(posts, index_dir, kept)
    assert len(list((index_dir / "builds").iterdir())) == 3  # still inside the grace period


def test_duplicate_slugs_are_reported_and_renamed_deterministically(tmp_path: Path) -> None:
    posts = tmp_path / "posts"
    write_post(posts, "a/same.md", {"title": "First"}, "one")
    write_post(posts, "b/same.md", {"title": "Second"}, "two")
    write_post(posts, "c.md", {"title": "Third", "slug": "same"}, "three")
    result = build(posts, tmp_path / "index")
    assert [(d.path, d.renamed_to, d.kept_by) for d in result.duplicates] == [
        ("b/same.md", "same-2", "a/same.md"),
        ("c.md", "same-3", "a/same.md"),
    ]
    with Searcher(tmp_path / "index") as searcher:
        assert searcher.post("same-2")["title"] == "Second"


def test_a_corpus_without_good_posts_leaves_the_current_build(tmp_path: Path) -> None:
    posts, index_dir = small_corpus(tmp_path / "posts"), tmp_path / "index"
    first = build(posts, index_dir)
    bad = tmp_path / "bad"
    (bad / "x.md").parent.mkdir()
    (bad / "x.md").write_bytes(b"\xff\xfe not utf-8")
    with pytest.raises(NothingToBuild, match="could not be parsed"):
        build(bad, index_dir)
    with pytest.raises(NothingToBuild, match="does not exist"):
        build(tmp_path / "missing", index_dir)
    (tmp_path / "empty").mkdir()
    with pytest.raises(NothingToBuild, match="no \\*.md"):
        build(tmp_path / "empty", index_dir)
    assert current_build_dir(index_dir) == first.build_dir


def test_second_writer_is_refused_while_the_lock_is_held(tmp_path: Path) -> None:
    posts, index_dir = small_corpus(tmp_path / "posts"), tmp_path / "index"
    with writer_lock(index_dir), pytest.raises(ReindexLocked, match="another reindex"):
        build(posts, index_dir, BuildOptions(wait_seconds=0.3))
    assert build(posts, index_dir).changed  # the lock is free again


def _sleep_a_while(started) -> None:
    started.set()
    time.sleep(30)


def test_a_process_forked_during_a_build_does_not_keep_the_lock(tmp_path: Path) -> None:
    """Whoosh forks writer processes; one that outlives a killed reindex must not block
    the next reindex."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    started = context.Event()
    child = context.Process(target=_sleep_a_while, args=(started,), daemon=True)
    with writer_lock(tmp_path):
        child.start()
        assert started.wait(10)
    try:
        with writer_lock(tmp_path):  # the child still runs, the lock is free
            assert child.is_alive()
    finally:
        child.kill()
        child.join()


def test_a_tampered_build_is_never_served(tmp_path: Path) -> None:
    posts, index_dir = small_corpus(tmp_path / "posts"), tmp_path / "index"
    good = build(posts, index_dir).build_dir
    with Searcher(index_dir) as searcher, Searcher(index_dir) as fresh:
        assert searcher.stats()["build_id"] == good.name
        write_post(posts, "delta.md", {"title": "Delta"}, "New words.")
        bad = build(posts, index_dir).build_dir
        catalog = bad / "posts.jsonl"
        catalog.write_text(catalog.read_text().replace("Delta", "Evil!"))
        with pytest.raises(BuildCorrupt, match="posts.jsonl"):
            verify_build(bad)
        for _ in range(2):  # checked once, then remembered until `current` moves again
            assert searcher.stats()["build_id"] == good.name  # keeps serving the good build
            with pytest.raises(BuildCorrupt):
                fresh.stats()  # a process that never opened the good build has nothing to serve
        write_post(posts, "echo.md", {"title": "Echo"}, "Newer words.")
        repaired = build(posts, index_dir, BuildOptions(full=True)).build_dir
        assert searcher.stats()["build_id"] == fresh.stats()["build_id"] == repaired.name


def test_workers_check_only_the_size_of_files_they_never_read(tmp_path: Path) -> None:
    """The count tables are read by the next incremental build alone: a worker does not
    hash them (only their size counts), and a reindex that finds one cut short builds
    in full instead of trusting it."""
    from index.build import BUILDER_FILES

    index_dir = tmp_path / "index"
    posts = tmp_path / "posts"
    shutil.copytree(SAMPLE_POSTS, posts)
    first = build(posts, index_dir).build_dir
    assert {"words.npz", "terms.npz"} <= BUILDER_FILES
    counts = first / "words.npz"
    data = bytearray(counts.read_bytes())
    data[-10] ^= 0xFF  # same size, different bytes
    counts.write_bytes(bytes(data))
    with pytest.raises(BuildCorrupt, match="words.npz"):
        verify_build(first)
    with Searcher(index_dir) as searcher:
        assert searcher.stats()["build_id"] == first.name  # served: no worker reads it
    (first / "terms.npz").write_bytes(b"cut")
    write_post(posts, "one-more.md", {"title": "One more"}, "A post added after the damage.")
    assert build(posts, index_dir).mode == "full"


def test_killed_reindex_leaves_the_served_build_intact(tmp_path: Path) -> None:
    """SIGKILL in the middle of a real reindex of a real blog (issue #2, atomic publish)."""
    index_dir = tmp_path / "index"
    first = build(SAMPLE_POSTS, index_dir)
    env = {
        **os.environ,
        "POSTSEARCH_INDEX_DIR": str(index_dir),
        "POSTSEARCH_POSTS_DIR": str(shared_dir("data", "blogs", "auth0", "posts")),
    }
    process = subprocess.Popen(
        [str(BIN / "postsearch"), "reindex"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    builds = index_dir / "builds"
    while not any(p.name.startswith(".tmp-") for p in builds.iterdir()):
        assert time.monotonic() < deadline and process.poll() is None, "build never started"
        time.sleep(0.05)
    time.sleep(0.5)
    process.send_signal(signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 10
    while _live_processes_of(index_dir) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _live_processes_of(index_dir), "a forked build process outlived the reindex"
    assert current_build_dir(index_dir) == first.build_dir
    verify_build(first.build_dir)
    with Searcher(index_dir) as searcher:
        assert searcher.search(SearchRequest(q="sourdough")).total > 0
    after = build(SAMPLE_POSTS, index_dir, BuildOptions(full=True))
    assert after.changed
    assert after.recovered_lock_of == process.pid  # said, not silently ignored
    assert after.removed_abandoned and after.removed_abandoned[0].startswith(".tmp-")
    assert not [p for p in builds.iterdir() if p.name.startswith(".tmp-")]


def _live_processes_of(index_dir: Path) -> list[int]:
    """Pids of live (not zombie) processes started for `index_dir`: the reindex and
    every process it forked inherit its environment."""
    marker = f"POSTSEARCH_INDEX_DIR={index_dir}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue  # not a process, gone, or not ours to read
        if marker in environ and state != "Z":
            found.append(int(entry.name))
    return found


def _limit_file_size() -> None:
    """In the child: files may not grow past 256 kB, as on a nearly full disk."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a kill
    resource.setrlimit(resource.RLIMIT_FSIZE, (256_000, 256_000))


def test_a_write_error_fails_cleanly_and_keeps_the_served_build(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    first = build(SAMPLE_POSTS, index_dir)
    env = {
        **os.environ,
        "POSTSEARCH_INDEX_DIR": str(index_dir),
        "POSTSEARCH_POSTS_DIR": str(shared_dir("data", "blogs", "18f", "posts")),
    }
    result = subprocess.run(
        [str(BIN / "postsearch"), "reindex"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=_limit_file_size,
    )
    assert result.returncode == 1
    assert "cannot write the index" in result.stderr and "Traceback" not in result.stderr
    assert current_build_dir(index_dir) == first.build_dir
    assert not [p for p in (index_dir / "builds").iterdir() if p.name.startswith(".tmp-")]
    verify_build(first.build_dir)


def test_pruning_never_deletes_the_current_build_with_a_relative_index_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    posts = small_corpus(Path("posts"))
    options = BuildOptions(full=True, keep_builds=2, grace_seconds=0)
    dirs = [build(posts, Path("idx"), options).build_dir for _ in range(3)]
    older = dirs[1]  # still kept: one of the newest two
    link = Path("idx") / "current"
    link.unlink()
    link.symlink_to(Path("builds") / older.name)  # an operator rolled back
    again = build(posts, Path("idx"), BuildOptions(keep_builds=1, grace_seconds=0))
    assert again.mode == "unchanged"
    assert (Path("idx") / "builds" / older.name / "manifest.json").is_file()


def test_strict_mode_publishes_nothing_when_a_post_is_skipped(tmp_path: Path) -> None:
    posts, index_dir = small_corpus(tmp_path / "posts"), tmp_path / "index"
    (posts / "broken.md").unlink()
    first = build(posts, index_dir)
    (posts / "broken.md").write_text("---\ntitle: [oops\n---\n", encoding="utf-8")
    write_post(posts, "new.md", {"title": "New"}, "words")
    with pytest.raises(PostsSkipped, match="broken.md"):
        build(posts, index_dir, BuildOptions(strict=True))
    assert current_build_dir(index_dir) == first.build_dir


@pytest.mark.parametrize(
    "front",
    [
        {"title": "X", "readingTime": float("inf")},
        {"title": "X", "date": "0001-01-01T00:00:00+01:00"},
        {"title": "X", "date": "9999-12-31T23:59:59-01:00"},
    ],
)
def test_out_of_range_values_skip_the_post_not_the_build(tmp_path: Path, front: dict) -> None:
    write_post(tmp_path / "posts", "ok.md", {"title": "Fine"}, "words")
    write_post(tmp_path / "posts", "bad.md", front, "words")
    result = build(tmp_path / "posts", tmp_path / "index")
    assert result.indexed == 1 and [e.path for e in result.skipped] == ["bad.md"]


def test_alias_conflicts_are_reported_and_resolved_predictably(tmp_path: Path) -> None:
    posts = tmp_path / "posts"
    write_post(posts, "a.md", {"title": "A", "aliases": ["/old/", "b"]}, "alpha")
    write_post(posts, "b.md", {"title": "B", "aliases": ["/old/"]}, "beta")
    write_post(posts, "c.md", {"title": "C", "aliases": ["/later/"], "date": "2999-01-01"}, "c")
    write_post(posts, "d.md", {"title": "D", "aliases": ["/later/"]}, "delta")
    result = build(posts, tmp_path / "index")
    assert result.alias_conflicts == [
        {"alias": "b", "slug": "a", "kept_by": "b"},
        {"alias": "/old/", "slug": "b", "kept_by": "a"},
        {"alias": "/later/", "slug": "d", "kept_by": "c"},
    ]
    with Searcher(tmp_path / "index") as searcher:
        assert searcher.post("b")["title"] == "B"  # a slug beats another post's alias
        with pytest.raises(PostMoved) as old:
            searcher.post("old")
        assert old.value.slug == "a"
        with pytest.raises(PostMoved) as later:  # the scheduled post's alias does not hide it
            searcher.post("later")
        assert later.value.slug == "d"


def test_parallel_parsing_builds_the_same_catalog_and_reports_the_same_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many files are parsed (and counted) in chunks, one process per core; the build
    must not change: same catalog, errors, word and term counts, weights."""
    from index.catalog import load_catalog
    from index.lexical import WordCounts
    from index.tfidf import TermCounts

    build_module = importlib.import_module("index.build")  # `index.build` is also a function

    posts = tmp_path / "posts"
    for i in range(100):  # several chunks of 32
        front = {"title": f"Post {i}", "tags": [f"t{i % 3}"], "draft": i == 50}
        write_post(posts, f"{i:03d}-post.md", front, f"Body word{i} common{i % 7} shared.")
    (posts / "broken.md").write_bytes(b"---\ntitle: [unclosed\n---\nbody")
    monkeypatch.setattr(build_module, "PARALLEL_PARSE_FROM", 10**9)
    serial = build(posts, tmp_path / "serial")
    monkeypatch.setattr(build_module, "PARALLEL_PARSE_FROM", 2)
    parallel = build(posts, tmp_path / "parallel")
    assert load_catalog(parallel.build_dir) == load_catalog(serial.build_dir)
    words = [WordCounts.load(b.build_dir) for b in (serial, parallel)]
    assert words[0].vocabulary == words[1].vocabulary and "word50" not in words[0].vocabulary
    assert (words[0].text != words[1].text).nnz == 0 and words[0].langs == words[1].langs
    terms = [TermCounts.load(b.build_dir) for b in (serial, parallel)]
    assert (
        terms[0].vocabulary == terms[1].vocabulary and (terms[0].counts != terms[1].counts).nnz == 0
    )
    for name in ("lexical.npz", "tfidf.npz"):
        with np.load(serial.build_dir / name) as one, np.load(parallel.build_dir / name) as two:
            assert all(np.array_equal(one[key], two[key]) for key in one.files)
    assert (
        [(e.path, e.reason) for e in parallel.skipped]
        == [(e.path, e.reason) for e in serial.skipped]
        != []
    )


def test_workers_read_a_summary_equal_to_the_catalog(tmp_path: Path) -> None:
    """Builds read every post's slug, dates and labels from the summary files, column by
    column; builds made before them are summarised from the catalog, the same."""
    from index.catalog import (
        SUMMARY_FILE,
        load_catalog,
        load_summary,
        summary_columns,
        summary_records,
    )
    from index.manifest import describe_artifacts

    result = build(SAMPLE_POSTS, tmp_path / "index")
    summary = load_summary(result.build_dir)
    catalog = load_catalog(result.build_dir)
    assert summary == summary_columns(catalog)
    # What incremental builds read of unchanged posts: the catalog's fields, as they are.
    kept = summary_records(summary)
    assert kept == [{name: record[name] for name in kept[0]} for record in catalog]
    assert {"slug", "path", "categories", "aliases", "related", "related_exclude"} <= set(kept[0])
    assert len(summary["slug"]) == result.indexed
    with Searcher(tmp_path / "index") as searcher:
        served = searcher.search(SearchRequest(q="")).to_dict()
    partial = {name: values for name, values in summary.items() if name != "path"}
    (result.build_dir / SUMMARY_FILE).write_text(json.dumps(partial), encoding="utf-8")
    assert load_summary(result.build_dir) == summary  # a column added since: from the catalog
    # A column whose value older builds did not record: filled in, the catalog unread.
    older = {name: values for name, values in summary.items() if name != "excerpt_in_body"}
    (result.build_dir / SUMMARY_FILE).write_text(json.dumps(older), encoding="utf-8")
    assert load_summary(result.build_dir) == older | {"excerpt_in_body": [False] * len(catalog)}
    (result.build_dir / SUMMARY_FILE).unlink()  # as built before summaries existed
    manifest_path = result.build_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["artifacts"] = describe_artifacts(result.build_dir)
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    assert load_summary(result.build_dir) == summary
    with Searcher(tmp_path / "index") as searcher:
        assert searcher.search(SearchRequest(q="")).to_dict()["facets"] == served["facets"]


def test_a_build_collects_garbage_rarely_and_restores_the_thresholds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc

    from index.memory import BUILD_GC_THRESHOLD

    build_module = importlib.import_module("index.build")  # `index.build` is the function
    seen: list[tuple[int, ...]] = []
    real_parse = build_module.parse_files

    def parse_files(*args, **kwargs):  # the real step, noting the thresholds it runs under
        seen.append(gc.get_threshold())
        return real_parse(*args, **kwargs)

    monkeypatch.setattr(build_module, "parse_files", parse_files)
    posts = tmp_path / "posts"
    write_post(posts, "one.md", {"title": "One"}, "A post about kettles.")
    before = gc.get_threshold()
    build(posts, tmp_path / "index")
    assert seen and seen[0][0] == max(before[0], BUILD_GC_THRESHOLD)
    assert gc.get_threshold() == before


def _full_text_fails(*args: object, **kwargs: object) -> float:
    """A full-text step that fails (module level: the forked process unpickles it)."""
    raise OSError(28, "No space left on device for the full-text index")


@pytest.mark.parametrize("beside", [True, False])
def test_a_failing_full_text_step_publishes_nothing_in_either_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, beside: bool
) -> None:
    """A full build writes the full-text index in a second process beside the other
    steps (from PARALLEL_STEPS_FROM posts) or in its own: a failure there stops the build
    and leaves the served one alone."""
    build_module = importlib.import_module("index.build")
    index_dir = tmp_path / "index"
    served = build(SAMPLE_POSTS, index_dir).build_dir
    monkeypatch.setattr(beside_module, "PARALLEL_STEPS_FROM", 0 if beside else 10**9)
    monkeypatch.setattr(build_module, "build_fulltext", _full_text_fails)
    with pytest.raises(OSError, match="full-text index"):
        build(SAMPLE_POSTS, index_dir, BuildOptions(full=True))
    assert current_build_dir(index_dir) == served
    assert [p.name for p in (index_dir / "builds").iterdir()] == [served.name]


def test_the_full_text_index_written_beside_equals_the_one_written_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(beside_module, "PARALLEL_STEPS_FROM", 0)
    beside = build(SAMPLE_POSTS, tmp_path / "beside").build_dir
    monkeypatch.setattr(beside_module, "PARALLEL_STEPS_FROM", 10**9)
    in_place = build(SAMPLE_POSTS, tmp_path / "in-place").build_dir
    contents = []
    for build_dir in (beside, in_place):
        fulltext = whoosh_index.open_dir(str(build_dir / "fulltext"))
        with fulltext.searcher() as searcher:
            reader = searcher.reader()
            slugs = sorted(fields["slug"] for fields in reader.all_stored_fields())
            contents.append((slugs, sorted(reader.all_terms())))
        fulltext.close()
    assert contents[0] == contents[1] and len(contents[0][0]) > 40
    with Searcher(tmp_path / "beside") as left, Searcher(tmp_path / "in-place") as right:
        for query in ('"neural network"', '"sourdough starter"', "category:cooking"):
            found = [[h.slug for h in s.search(SearchRequest(q=query)).hits] for s in (left, right)]
            assert found[0] == found[1] and found[0], query


def test_a_worker_reads_the_summary_without_its_label_columns(tmp_path: Path) -> None:
    """The label columns (parsing the categories alone took 0.4 s of a worker's open at
    57k posts) sit in a file of their own, read by builds and not by workers."""
    from index.catalog import LABEL_COLUMNS, LABELS_FILE, SERVING_COLUMNS, load_summary

    result = build(SAMPLE_POSTS, tmp_path / "index")
    whole = load_summary(result.build_dir)
    serving = load_summary(result.build_dir, SERVING_COLUMNS)
    assert set(serving) == set(SERVING_COLUMNS) and not LABEL_COLUMNS & set(serving)
    assert serving == {name: whole[name] for name in SERVING_COLUMNS}
    assert set(whole) == set(SERVING_COLUMNS) | LABEL_COLUMNS
    labels = json.loads((result.build_dir / LABELS_FILE).read_text(encoding="utf-8"))
    assert set(labels) == LABEL_COLUMNS


def test_a_build_from_before_the_split_summary_and_facet_files_is_served_and_built_on(
    tmp_path: Path,
) -> None:
    """A build that keeps every summary column in summary.json and has no facet files
    (as builds were made before them) answers the same, and an incremental build made
    from it equals a full build."""
    from index.catalog import LABELS_FILE, SUMMARY_FILE, load_summary
    from index.facet_values import FACETS, FACETS_FILE, FACETS_VOCAB_FILE, load_facets
    from index.manifest import describe_artifacts

    posts, index_dir = tmp_path / "posts", tmp_path / "index"
    shutil.copytree(SAMPLE_POSTS, posts)
    old = build(posts, index_dir).build_dir
    requests = [SearchRequest(q=""), SearchRequest(q="bread", tags=("baking",))]
    with Searcher(index_dir) as searcher:
        served = [searcher.search(r).to_dict() for r in requests]
    (old / SUMMARY_FILE).write_text(json.dumps(load_summary(old)), encoding="utf-8")
    for name in (LABELS_FILE, FACETS_FILE, FACETS_VOCAB_FILE):
        (old / name).unlink()
    manifest_path = old / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["artifacts"] = describe_artifacts(old)
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    with Searcher(index_dir) as searcher:
        assert [searcher.search(r).to_dict() for r in requests] == served
    edited = posts / "accessible-forms-that-everyone-can-use.md"
    edited.write_text(edited.read_text(encoding="utf-8") + "\nOne more line.\n", "utf-8")
    newer = build(posts, index_dir)
    assert newer.mode == "incremental"
    full = build(posts, tmp_path / "full", BuildOptions(full=True)).build_dir
    assert load_summary(newer.build_dir) == load_summary(full)
    mine, theirs = load_facets(newer.build_dir), load_facets(full)
    assert mine is not None and theirs is not None and mine.levels == theirs.levels
    for name in FACETS:
        assert mine.facets[name].keys == theirs.facets[name].keys, name
        assert (mine.facets[name].posts != theirs.facets[name].posts).nnz == 0, name
