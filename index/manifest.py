"""`manifest.json`: written last, it is the proof a build is complete.

It lists every artifact with its size and SHA-256; a build whose manifest is missing
or whose files do not match is never served.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson

from .errors import BuildCorrupt

MANIFEST_FILE = "manifest.json"
FORMAT_VERSION = 1
# Every file is hashed, Whoosh's included: its table of contents and stored fields are
# pickles, so nothing may be loaded that differs from what the build wrote (hashing
# the 20 MB digitalgov build takes about 40 ms per worker start; a 57k-post build, 0.7 s
# per worker). A worker opening the next build skips the files it verified in the build
# before, as long as the file system says they are unchanged (see verify_build).


def file_digest(path: Path) -> str:
    """SHA-256 of a file, read in chunks (hashlib releases the GIL while it hashes a
    chunk, so several files hash in parallel on threads: see `file_digests`)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_digests(paths: list[Path]) -> list[str]:
    """SHA-256 of each file, on one thread per core: a 57k-post build is 2 GB."""
    if len(paths) < 2:
        return [file_digest(path) for path in paths]
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        return list(pool.map(file_digest, paths))


# Another build and its artifact table: files hard-linked from it keep its digests.
SharedWith = tuple[Path, dict[str, dict[str, Any]]]


def describe_artifacts(
    build_dir: Path, shared_with: SharedWith | None = None
) -> dict[str, dict[str, Any]]:
    """Size and SHA-256 of every file in the build directory.

    A file that is the same file (a hard link) as the one of the same name in
    `shared_with`'s build keeps that build's digest instead of being read again. If
    the shared file had been altered since, the digest no longer matches and both
    builds are refused when opened.
    """
    artifacts: dict[str, dict[str, Any]] = {}
    for path in sorted(p for p in build_dir.rglob("*") if p.is_file()):
        name = path.relative_to(build_dir).as_posix()
        if name == MANIFEST_FILE or name.endswith(".lock"):
            continue
        size = path.stat().st_size
        artifacts[name] = {"bytes": size, "sha256": _shared_digest(path, name, size, shared_with)}
    unknown = [name for name, entry in artifacts.items() if entry["sha256"] is None]
    for name, digest in zip(unknown, file_digests([build_dir / n for n in unknown]), strict=True):
        artifacts[name]["sha256"] = digest
    return artifacts


def _shared_digest(path: Path, name: str, size: int, shared_with: SharedWith | None) -> str | None:
    if shared_with is None:
        return None
    other_dir, other_artifacts = shared_with
    entry = other_artifacts.get(name)
    if not entry or entry.get("bytes") != size or "sha256" not in entry:
        return None
    try:
        same = os.path.samefile(path, other_dir / name)
    except OSError:
        return None
    return entry["sha256"] if same else None


def write_manifest(
    build_dir: Path, manifest: dict[str, Any], shared_with: SharedWith | None = None
) -> None:
    """Write the manifest (with the artifact list) atomically and durably."""
    artifacts = describe_artifacts(build_dir, shared_with)
    manifest = {**manifest, "format": FORMAT_VERSION, "artifacts": artifacts}
    tmp = build_dir / f".{MANIFEST_FILE}.tmp"
    # Indented for people; orjson because the standard library's encoder runs in
    # Python when indenting (4 s for the 57k files table, orjson a tenth of that).
    with tmp.open("wb") as handle:
        handle.write(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, build_dir / MANIFEST_FILE)


def read_manifest(build_dir: Path) -> dict[str, Any]:
    """Read a build's manifest. Raises BuildCorrupt if it is missing or unreadable."""
    try:
        manifest = orjson.loads((build_dir / MANIFEST_FILE).read_bytes())
    except FileNotFoundError:
        raise BuildCorrupt(build_dir, "no manifest.json (the build never finished)") from None
    except (OSError, orjson.JSONDecodeError) as exc:
        raise BuildCorrupt(build_dir, f"unreadable manifest.json: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION:
        raise BuildCorrupt(build_dir, "manifest.json has an unknown format")
    return manifest


# A file as the kernel knows it: which file (device, inode) and whether its bytes
# changed (size, modification time: every write moves it). Not the change time: linking
# the file into the next build moves that too.
FileIdentity = tuple[int, int, int, int]


def file_identity(path: Path) -> FileIdentity:
    """The identity of the file at `path` now (raises OSError when it is missing)."""
    stat = path.stat()
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)


def verify_build(
    build_dir: Path,
    hashes: bool = True,
    unread: frozenset[str] = frozenset(),
    known: Mapping[FileIdentity, str] | None = None,
    verified: dict[FileIdentity, str] | None = None,
) -> dict[str, Any]:
    """Check every artifact against the manifest and return the manifest.

    Raises BuildCorrupt naming the first file that is missing, resized or altered.
    Without `hashes`, only presence and sizes are checked: for the writer, which
    hashed the files a moment ago. Files named in `unread` (ones the caller never
    opens) are checked by size only.

    `known` holds files the caller hashed before (a worker, in the build it served
    until now) and their digests: a file that is one of them, unchanged, and expected
    to have that digest is not read again. An incremental build hard-links the page
    and text stores of the build before it, two thirds of what a worker hashed when
    it opened a 57k-post build. Each file checked, hashed or known, is added to
    `verified`; a file that is not the same before and after it was hashed is refused.

    "Unchanged" is the file system's word for it: a write moves the modification time,
    but bytes changed with the time then set back (`touch -r`, `cp -p` onto the same
    file) or altered beneath the file system are not seen, as they are not in the
    build the worker already serves. Such a change is caught by any process that has
    not verified the file before (a worker started since), and whoever can write to
    the build can rewrite its manifest too: the digests guard against damage and
    half-copied builds, not against the index folder's owner.
    """
    manifest = read_manifest(build_dir)
    artifacts = manifest.get("artifacts", {})
    identities: dict[str, FileIdentity] = {}
    for name, expected in artifacts.items():
        try:
            identities[name] = file_identity(build_dir / name)
        except OSError:
            raise BuildCorrupt(build_dir, f"{name} is missing") from None
        size = identities[name][2]
        if size != expected.get("bytes"):
            raise BuildCorrupt(build_dir, f"{name} has {size} bytes, expected {expected['bytes']}")
    if hashes:
        known = known or {}
        checked = [n for n, e in artifacts.items() if n not in unread and "sha256" in e]
        hashed = [n for n in checked if known.get(identities[n]) != artifacts[n]["sha256"]]
        for name, digest in zip(hashed, file_digests([build_dir / n for n in hashed]), strict=True):
            if digest != artifacts[name]["sha256"]:
                raise BuildCorrupt(build_dir, f"{name} does not match its SHA-256")
            if _identity_or_none(build_dir / name) != identities[name]:
                # Replaced or written to while it was read: what would be opened is not
                # what was hashed (a published build never changes).
                raise BuildCorrupt(build_dir, f"{name} changed while it was checked")
        if verified is not None:
            verified.update((identities[name], artifacts[name]["sha256"]) for name in checked)
    return manifest


def _identity_or_none(path: Path) -> FileIdentity | None:
    try:
        return file_identity(path)
    except OSError:
        return None
