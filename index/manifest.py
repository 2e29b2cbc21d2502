"""`manifest.json`: written last, it is the proof a build is complete.

It lists every artifact with its size and SHA-256; a build whose manifest is missing
or whose files do not match is never served.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson

from .errors import BuildCorrupt

MANIFEST_FILE = "manifest.json"
FORMAT_VERSION = 1
# Every file is hashed, Whoosh's included: its table of contents and stored fields are
# pickles, so nothing may be loaded that differs from what the build wrote (hashing
# the 20 MB digitalgov build takes about 40 ms per worker start).


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


def verify_build(
    build_dir: Path, hashes: bool = True, unread: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """Check every artifact against the manifest and return the manifest.

    Raises BuildCorrupt naming the first file that is missing, resized or altered.
    Without `hashes`, only presence and sizes are checked: for the writer, which
    hashed the files a moment ago. Files named in `unread` (ones the caller never
    opens) are checked by size only.
    """
    manifest = read_manifest(build_dir)
    artifacts = manifest.get("artifacts", {})
    for name, expected in artifacts.items():
        path = build_dir / name
        try:
            size = path.stat().st_size
        except OSError:
            raise BuildCorrupt(build_dir, f"{name} is missing") from None
        if size != expected.get("bytes"):
            raise BuildCorrupt(build_dir, f"{name} has {size} bytes, expected {expected['bytes']}")
    if hashes:
        hashed = [n for n, e in artifacts.items() if n not in unread and "sha256" in e]
        for name, digest in zip(hashed, file_digests([build_dir / n for n in hashed]), strict=True):
            if digest != artifacts[name]["sha256"]:
                raise BuildCorrupt(build_dir, f"{name} does not match its SHA-256")
    return manifest
