"""Cold start: a fresh process importing a handler and building its clients, over a fresh
process importing boto3 and building the same clients; and what each deployment carries."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from bench.stats import median, ratio
from bench.support import ROOT, timed

ENV = {
    **os.environ,
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "x",
    "AWS_SECRET_ACCESS_KEY": "x",
    "ANTHROPIC_API_KEY": "x",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "HOOKWISE_CONFIG": str(ROOT / "hookwise.yaml"),
    "HOOKWISE_BUCKET": "b",
    "HOOKWISE_EVENT_BUS": "hookwise",
}
PROGRAMS = {
    "ingest": (
        "from functions.ingest.handler import handler\n"
        "from hookwise import wiring\n"
        "wiring.ingest_service()",
        "import boto3\n"
        "boto3.resource('dynamodb').Table('t'); boto3.client('sqs'); boto3.client('s3');"
        " boto3.client('secretsmanager')",
    ),
    "worker": (
        "from functions.worker.handler import handler\n"
        "from hookwise import wiring\n"
        "wiring.batch_runner()",
        "import boto3\n"
        "boto3.resource('dynamodb').Table('t'); boto3.client('sqs'); boto3.client('s3');"
        " boto3.client('events')",
    ),
}


def _run(program: str) -> float:
    return timed(
        lambda: subprocess.run(
            [sys.executable, "-c", program], env=ENV, check=True, cwd=tempfile.gettempdir()
        )
    )


def measure(runs: int = 7) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name, (subject, baseline) in PROGRAMS.items():
        subject_times, baseline_times = [], []
        for _ in range(runs):
            subject_times.append(_run(subject))
            baseline_times.append(_run(baseline))
        results[name] = {
            "runs": runs,
            "handler_s": median(subject_times),
            "boto3_only_s": median(baseline_times),
            "ratio": ratio(subject_times, baseline_times),
        }
    results["sizes_bytes"] = sizes()
    return results


def folder_bytes(path: Path) -> int:
    return sum(
        f.stat().st_size for f in path.rglob("*") if f.is_file() and "__pycache__" not in f.parts
    )


def dependency_layer() -> Path:
    """The dependency layer as deployed (arm64, Python 3.13), built once and cached."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = sorted(d for d in project["dependencies"] if not d.startswith("boto3"))
    key = hashlib.sha256("\n".join(requirements).encode()).hexdigest()[:16]
    target = ROOT / "build" / "bench-deps" / key / "python"
    if not target.exists():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--platform",
                "manylinux2014_aarch64",
                "--implementation",
                "cp",
                "--python-version",
                "3.13",
                "--only-binary=:all:",
                "--target",
                str(target),
                *requirements,
            ],
            check=True,
        )
    return target


def sizes() -> dict[str, int]:
    found = {
        f"function_{name}": folder_bytes(ROOT / "functions" / name)
        for name in ("ingest", "worker", "dlq_redrive", "sweeper")
    }
    found["layer_shared"] = (
        folder_bytes(ROOT / "layers" / "shared" / "hookwise")
        + (ROOT / "hookwise.yaml").stat().st_size
    )
    found["layer_dependencies"] = folder_bytes(dependency_layer())
    return found
