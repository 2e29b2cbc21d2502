"""The `postsearch` command: exit codes, the summary line and the skip report."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from api.cli import main
from index.store import writer_lock
from tests.conftest import write_post


@pytest.fixture()
def posts(tmp_path: Path) -> Path:
    folder = tmp_path / "posts"
    write_post(folder, "one.md", {"title": "One"}, "first post")
    write_post(folder, "two.md", {"title": "Two", "draft": True}, "second post")
    (folder / "bad.md").write_text("---\ntitle: [oops\n---\n", encoding="utf-8")
    return folder


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_reindex_builds_and_reports(posts: Path, tmp_path: Path) -> None:
    result = run("reindex", "--posts", str(posts), "--index", str(tmp_path / "ix"))
    assert result.exit_code == 0, result.output
    assert "skipped bad.md: invalid YAML front matter" in result.stderr
    summary = result.stdout.strip().splitlines()[-1]
    assert summary.startswith("Built ")
    assert "1 posts indexed (0 scheduled), 1 hidden as drafts, 1 skipped" in summary
    assert "3 files in" in summary and "posts/s" in summary
    again = run("reindex", "--posts", str(posts), "--index", str(tmp_path / "ix"))
    assert again.exit_code == 0 and again.stdout.startswith("Nothing changed since build")
    assert "posts/s" not in again.stdout  # nothing was read: no rate to report


def test_reindex_reads_the_same_settings_as_the_server(posts: Path, tmp_path: Path) -> None:
    env = {"POSTSEARCH_POSTS_DIR": str(posts), "POSTSEARCH_INDEX_DIR": str(tmp_path / "env-ix")}
    result = run("reindex", env=env)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "env-ix" / "current" / "manifest.json").is_file()


def test_strict_fails_on_a_broken_post_after_building(posts: Path, tmp_path: Path) -> None:
    result = run("reindex", "--posts", str(posts), "--index", str(tmp_path / "ix"), "--strict")
    assert result.exit_code == 1 and "--strict" in result.stderr


def test_nothing_to_build_exits_1_and_keeps_the_current_build(posts: Path, tmp_path: Path) -> None:
    index = str(tmp_path / "ix")
    assert run("reindex", "--posts", str(posts), "--index", index).exit_code == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run("reindex", "--posts", str(empty), "--index", index)
    assert result.exit_code == 1
    assert "no *.md or *.markdown files" in result.stderr and "unchanged" in result.stderr
    assert (tmp_path / "ix" / "current").is_symlink()


def test_a_held_lock_exits_3(posts: Path, tmp_path: Path) -> None:
    with writer_lock(tmp_path / "ix"):
        result = run(
            "reindex", "--posts", str(posts), "--index", str(tmp_path / "ix"), "--wait", "0.2"
        )
    assert result.exit_code == 3 and "another reindex" in result.stderr


@pytest.mark.parametrize(
    "args", [["reindex", "--nope"], ["reindex", "--wait", "-1"], ["no-such-command"]]
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    assert run(*args).exit_code == 2


def test_progress_bars_are_drawn_when_asked(posts: Path, tmp_path: Path) -> None:
    result = run("reindex", "--posts", str(posts), "--index", str(tmp_path / "ix"), "--progress")
    assert "parse" in result.stderr and "full text" in result.stderr


def test_every_command_has_help() -> None:
    for command in ([], ["reindex"]):
        result = run(*command, "--help")
        assert result.exit_code == 0 and "Usage:" in result.stdout
    assert "Example:" in run("reindex", "--help").stdout


@pytest.mark.parametrize(
    "env",
    [
        {"POSTSEARCH_KEEP_BUILDS": "abc"},
        {"POSTSEARCH_KEEP_BUILDS": "0"},
        {"POSTSEARCH_PERMALINK": "/posts/"},
    ],
)
def test_bad_configuration_is_a_usage_error(
    posts: Path, tmp_path: Path, env: dict[str, str]
) -> None:
    result = run("reindex", "--posts", str(posts), "--index", str(tmp_path / "ix"), env=env)
    assert result.exit_code == 2 and "bad configuration" in result.stderr
