"""Which post files changed since the last build.

A file whose size and modification time match the manifest is not read at all (as
git and rsync do); one whose stat moved is hashed, and only a different SHA-256 makes
it changed, so touching a file costs a read but never a rebuild.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .posts import post_file_entries


@dataclass(frozen=True)
class FileState:
    """What the manifest remembers of one post file."""

    size: int
    mtime_ns: int
    sha256: str

    @classmethod
    def of(cls, path: Path, data: bytes | None = None) -> FileState:
        """Stat and hash a file (hash `data` when the caller already read it)."""
        stat = path.stat()
        data = path.read_bytes() if data is None else data
        return cls(stat.st_size, stat.st_mtime_ns, hashlib.sha256(data).hexdigest())


@dataclass
class Changes:
    """Post files (relative paths) by what happened to them since the last build."""

    unchanged: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    @property
    def changed(self) -> list[str]:
        """Files to parse again: modified and added, in path order."""
        return sorted(self.modified + self.added)

    @property
    def is_empty(self) -> bool:
        """True when no post file was added, modified or deleted."""
        return not (self.modified or self.added or self.deleted)


def detect_changes(posts_dir: Path, previous: Mapping[str, Mapping[str, Any]]) -> Changes:
    """Compare the files under `posts_dir` with the manifest's `files` table."""
    changes = Changes()
    unchanged = changes.unchanged.append
    present = dict(post_file_entries(posts_dir))
    for name, entry in present.items():
        known = previous.get(name)
        stat = entry.stat()
        if known and known["size"] == stat.st_size and known["mtime_ns"] == stat.st_mtime_ns:
            unchanged(name)  # the common case: 57k files in a reindex with nothing to do
            continue
        state = FileState.of(Path(entry.path))
        if known is None:
            changes.added.append(name)
        elif known["sha256"] == state.sha256:
            changes.unchanged.append(name)
        else:
            changes.modified.append(name)
    changes.deleted = sorted(set(previous) - set(present))
    return changes
