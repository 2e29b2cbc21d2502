"""Typed errors of the indexing step; none of them knows about HTTP."""

from __future__ import annotations

from pathlib import Path


class ServiceError(Exception):
    """Base of every error postsearch raises on purpose."""


class PostParseError(ServiceError):
    """A post file could not be read; the build skips it and reports why."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


class IndexNotBuilt(ServiceError):
    """No published build exists in the index directory yet."""

    def __init__(self, index_dir: Path | str) -> None:
        super().__init__(f"no index has been built in {index_dir}; run `postsearch reindex`")
        self.index_dir = str(index_dir)


class BuildCorrupt(ServiceError):
    """A build directory failed its manifest check and must not be served."""

    def __init__(self, build_dir: Path | str, reason: str) -> None:
        super().__init__(f"build {build_dir} failed its check: {reason}")
        self.build_dir = str(build_dir)
        self.reason = reason


class NothingToBuild(ServiceError):
    """The posts folder holds no post that could be indexed."""


class PostsSkipped(ServiceError):
    """Strict mode: some post files could not be parsed, so nothing was published."""


class NoBuildToRollBackTo(ServiceError):
    """`postsearch rollback` found no complete build older than the current one."""


class ReindexLocked(ServiceError):
    """Another reindex holds the writer lock."""
