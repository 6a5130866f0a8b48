"""What the Lambda functions import must be in the layer: no handler may pull in the
development-only subpackages the shared layer leaves out (see `SharedLayerBundler`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra.layers import SharedLayerBundler
from tests.conftest import CONFIG_PATH, ROOT

HANDLERS = ["ingest", "worker", "dlq_redrive", "sweeper", "batch_collector", "batch_poller"]
PROBE = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
print(json.dumps(sorted(sys.modules)))
"""


@pytest.mark.parametrize("folder", HANDLERS)
def test_handler_imports_nothing_the_layer_leaves_out(folder: str) -> None:
    # A fresh interpreter: this test process has imported the CLI and the local stack already.
    env = {**os.environ, "HOOKWISE_CONFIG": str(CONFIG_PATH), "AWS_DEFAULT_REGION": "us-east-1"}
    answer = subprocess.run(
        [sys.executable, "-c", PROBE, f"functions.{folder}.handler"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = json.loads(answer.stdout.splitlines()[-1])
    assert f"functions.{folder}.handler" in loaded
    left_out = tuple(f"hookwise.{name}" for name in SharedLayerBundler.DEVELOPMENT_ONLY)
    assert [m for m in loaded if m.startswith(left_out)] == []


def test_the_shared_layer_leaves_the_development_packages_out(tmp_path: Path) -> None:
    assert SharedLayerBundler(CONFIG_PATH).try_bundle(str(tmp_path))
    bundled = tmp_path / "python" / "hookwise"
    assert (bundled / "worker" / "service.py").exists()
    for name in ("cli", "console", "local", "samples"):
        assert not (bundled / name).exists(), f"the layer ships hookwise/{name}"
