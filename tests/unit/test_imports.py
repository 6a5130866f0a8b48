"""Each function imports only what it uses: the ingest and worker cold starts stay lean."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hookwise.config.loader import compile_config
from hookwise.sources import compiled_path
from tests.conftest import CONFIG_PATH, ROOT

# Loaded by the ingest function's import and the build of its service, tracing off.
NEVER_IN_INGEST = (
    "anthropic",
    "aws_xray_sdk",
    "hookwise.redrive",
    "hookwise.worker",
    # The compiled configuration and the records are read without pydantic, and API Gateway's
    # routeKey replaces Powertools' resolver: together ~0.15 of the cold-start ratio.
    "pydantic",
    "aws_lambda_powertools.event_handler",
    "yaml",
)
# Loaded by the worker function's import and the build of its batch runner, for the
# deployed configuration (no batch route): what only some events use waits for them.
NEVER_IN_WORKER = (
    "anthropic",
    "httpx",
    "jwt",
    "slack_sdk",
    "hookwise.providers.github",
    "hookwise.providers.slack",
    "hookwise.adapters.batches",
    "hookwise.adapters.secrets.secretsmanager",
    "hookwise.batches",
    "hookwise.context",
    "hookwise.deliveries.callback",
)
# A function's cold start: its handler imported and its service built (`wiring.<builder>`).
PROGRAM = """
import json, sys
from functions.{function}.handler import handler
from hookwise import wiring
wiring.{builder}()
print(json.dumps(sorted(sys.modules)))
"""
INGEST = PROGRAM.format(function="ingest", builder="ingest_service")
WORKER = PROGRAM.format(function="worker", builder="batch_runner")


@pytest.fixture(scope="module")
def deployed_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """hookwise.yaml with its compiled JSON beside it, as the shared layer carries them."""
    folder = tmp_path_factory.mktemp("opt")
    shutil.copy(CONFIG_PATH, folder / "hookwise.yaml")
    compile_config(CONFIG_PATH, compiled_path(folder / "hookwise.yaml"))
    return folder / "hookwise.yaml"


def loaded_modules(config: Path, program: str = INGEST, **environment: str) -> set[str]:
    base = {k: v for k, v in os.environ.items() if k != "POWERTOOLS_TRACE_DISABLED"}
    answer = subprocess.run(
        [sys.executable, "-c", program],
        env={
            **base,
            "AWS_DEFAULT_REGION": "us-east-1",
            "HOOKWISE_CONFIG": str(config),
            **environment,
        },
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(answer.stdout))


def imported(modules: set[str], package: str) -> bool:
    return any(name == package or name.startswith(package + ".") for name in modules)


def test_ingest_with_tracing_off_imports_no_model_sdk_tracer_worker_or_yaml(
    deployed_config: Path,
) -> None:
    modules = loaded_modules(deployed_config, POWERTOOLS_TRACE_DISABLED="true")
    assert [p for p in NEVER_IN_INGEST if imported(modules, p)] == []
    # The check can fail: the ingest service itself is loaded.
    assert imported(modules, "hookwise.ingest.service")


@pytest.mark.parametrize("environment", [{"POWERTOOLS_TRACE_DISABLED": "false"}, {}])
def test_ingest_with_tracing_on_loads_the_tracer(
    deployed_config: Path, environment: dict[str, str]
) -> None:
    modules = loaded_modules(deployed_config, **environment)
    assert imported(modules, "aws_xray_sdk")
    assert not imported(modules, "anthropic")


def test_worker_imports_and_builds_only_what_every_event_needs(deployed_config: Path) -> None:
    modules = loaded_modules(deployed_config, WORKER, POWERTOOLS_TRACE_DISABLED="true")
    assert [p for p in NEVER_IN_WORKER if imported(modules, p)] == []
    # The check can fail: the worker service and its action runner are loaded.
    assert imported(modules, "hookwise.worker.service")
    assert imported(modules, "hookwise.actions.runner")
