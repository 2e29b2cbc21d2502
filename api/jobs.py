"""Background reindex jobs started over HTTP, with their status kept on disk.

The job runs in its own process (`python -m api.jobs JOB_FILE`), started in a new
session so it outlives the gunicorn worker that accepted the request; its status file
lives under INDEX_DIR/jobs/, so every worker can answer `GET /api/reindex/<id>`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from index import BuildOptions, NothingToBuild, PostsSkipped, ReindexLocked, build

JOBS_DIR = "jobs"
_JOB_ID = re.compile(r"^[0-9a-f]{32}$")


def start_job(
    posts_dir: Path, index_dir: Path, full: bool, keep_builds: int, grace_seconds: float
) -> dict[str, Any]:
    """Record a queued job and start its runner process; returns the job record."""
    job = {
        "id": uuid.uuid4().hex,
        "status": "queued",
        "full": full,
        "created_at": _now(),
        "posts_dir": str(posts_dir.resolve()),
        "index_dir": str(index_dir.resolve()),
        "keep_builds": keep_builds,
        "grace_seconds": grace_seconds,
    }
    path = _job_path(index_dir, job["id"])
    path.parent.mkdir(parents=True, exist_ok=True)
    _write(path, job)
    with (path.with_suffix(".log")).open("ab") as log:
        # The runner forks once more and its first process exits at once, so the
        # worker reaps it now and the build itself belongs to init, not to the worker.
        subprocess.run(
            [sys.executable, "-m", "api.jobs", str(path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=Path(__file__).resolve().parents[1],
            check=True,
            timeout=60,
        )
    return job


def read_job(index_dir: Path, job_id: str) -> dict[str, Any] | None:
    """The job's record, or None for an unknown (or malformed) id."""
    if not _JOB_ID.match(job_id):
        return None
    try:
        job = json.loads(_job_path(index_dir, job_id).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if job["status"] == "running" and not _alive(job.get("pid")):
        job.update(status="failed", error="the reindex process died before finishing")
    return {k: v for k, v in job.items() if k not in ("posts_dir", "index_dir", "pid")}


def run_job(path: Path) -> int:
    """Run the build a job file describes, recording progress and the outcome."""
    job = json.loads(path.read_text(encoding="utf-8"))
    job.update(status="running", started_at=_now(), pid=os.getpid())
    _write(path, job)
    options = BuildOptions(
        full=job["full"],
        keep_builds=job["keep_builds"],
        grace_seconds=job["grace_seconds"],
        wait_seconds=600,
    )
    try:
        result = build(Path(job["posts_dir"]), Path(job["index_dir"]), options)
    except (NothingToBuild, PostsSkipped, ReindexLocked) as exc:
        job.update(status="failed", error=str(exc))
    except Exception as exc:  # noqa: BLE001 - recorded for the operator, then re-raised
        job.update(status="failed", error=f"{type(exc).__name__}: {exc}", finished_at=_now())
        _write(path, job)
        raise
    else:
        job.update(
            status="succeeded",
            result={
                "build_id": result.build_id,
                "mode": result.mode,
                "indexed": result.indexed,
                "drafts": result.drafts,
                "skipped": len(result.skipped),
                "seconds": round(result.seconds, 3),
            },
        )
    job["finished_at"] = _now()
    _write(path, job)
    return 0 if job["status"] == "succeeded" else 1


def _job_path(index_dir: Path, job_id: str) -> Path:
    return index_dir / JOBS_DIR / f"{job_id}.json"


def _write(path: Path, job: dict[str, Any]) -> None:
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(job), encoding="utf-8")
    os.replace(tmp, path)


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a finished child of ours that nobody reaped is a zombie, not alive
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return True


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")


if __name__ == "__main__":
    if os.fork() > 0:  # detach: the parent returns to the waiting worker at once
        os._exit(0)
    sys.exit(run_job(Path(sys.argv[1])))
