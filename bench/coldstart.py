"""Cold start: a fresh process importing a handler and building its clients, over a fresh
process importing boto3 and building the same clients; and what each deployment carries.

The handler process sees the configuration as a deployment does: `hookwise.yaml` with the JSON
compiled from it at synth time beside it, and tracing off."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.stats import median, ratio
from bench.support import CONFIG_PATH, ROOT
from hookwise.config.loader import compile_config
from hookwise.sources import compiled_path

ENV = {
    **os.environ,
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "x",
    "AWS_SECRET_ACCESS_KEY": "x",
    "ANTHROPIC_API_KEY": "x",
    "POWERTOOLS_TRACE_DISABLED": "true",
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


def _run(program: str, environment: dict[str, str]) -> float:
    """From the process's start until it says it is ready: a Lambda environment is reused
    after its INIT, so the interpreter's teardown (tens of ms more for the process that
    loaded more modules) is no part of a cold start."""
    started = time.perf_counter()
    with subprocess.Popen(
        [sys.executable, "-c", program + "\nprint('ready', flush=True)"],
        env=environment,
        cwd=tempfile.gettempdir(),
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None
        ready = process.stdout.readline()
        elapsed = time.perf_counter() - started
        process.communicate()
    if ready.strip() != "ready" or process.returncode:
        raise RuntimeError(f"cold-start program failed (exit {process.returncode})")
    return elapsed


def deployed_config(folder: Path) -> Path:
    """hookwise.yaml and its compiled JSON, as the shared layer carries them."""
    target = folder / "hookwise.yaml"
    shutil.copy(CONFIG_PATH, target)
    compile_config(CONFIG_PATH, compiled_path(target))
    return target


def measure(runs: int = 7) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        environment = {**ENV, "HOOKWISE_CONFIG": str(deployed_config(Path(folder)))}
        for name, (subject, baseline) in PROGRAMS.items():
            results[name] = _compare(subject, baseline, environment, runs)
    results["sizes_bytes"] = sizes()
    return results


def _compare(subject: str, baseline: str, environment: dict[str, str], runs: int) -> dict[str, Any]:
    subject_times: list[float] = []
    baseline_times: list[float] = []
    for _ in range(runs):  # interleaved, so both see the same noise
        subject_times.append(_run(subject, environment))
        baseline_times.append(_run(baseline, environment))
    return {
        "runs": runs,
        "handler_s": median(subject_times),
        "boto3_only_s": median(baseline_times),
        "ratio": ratio(subject_times, baseline_times),
    }


def folder_bytes(path: Path) -> int:
    return sum(
        f.stat().st_size for f in path.rglob("*") if f.is_file() and "__pycache__" not in f.parts
    )


def sizes() -> dict[str, int]:
    found = {
        f"function_{name}": folder_bytes(ROOT / "functions" / name)
        for name in ("ingest", "worker", "dlq_redrive", "sweeper")
    }
    found["layer_shared"] = (
        folder_bytes(ROOT / "layers" / "shared" / "hookwise")
        + (ROOT / "hookwise.yaml").stat().st_size
    )
    # The layer as `cdk synth` builds it (arm64, the runtime's Python, runtime-provided
    # packages dropped); imported here, as it loads the CDK (and node).
    from infra.layers import built_dependencies

    found["layer_dependencies"] = folder_bytes(built_dependencies() / "python")
    return found
