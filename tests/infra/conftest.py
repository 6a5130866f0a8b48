"""One synth of the real app for the whole session (with cdk-nag and the real layer builds)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

import aws_cdk as cdk
import yaml
from aws_cdk.assertions import Template

from infra.app import build
from tests.conftest import CONFIG_PATH, ROOT

# A route with a signed callback, added to the shipped config: the stack grants its secret.
CALLBACK_ROUTE = "standard-callback"


@dataclass
class Synth:
    template: Template
    raw: dict[str, Any]
    outdir: Path
    stack: cdk.Stack

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        return {name: r for name, r in self.raw["Resources"].items() if r["Type"] == kind}


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    outdir = tmp_path_factory.mktemp("cdk.out")
    document = yaml.safe_load(CONFIG_PATH.read_text())
    standard = next(r for r in document["routes"] if r["match"]["source"] == "standard")
    document["routes"].append(
        {
            **standard,
            "name": CALLBACK_ROUTE,
            "match": {"source": "standard", "event_types": ["invoice.paid"]},
            "actions": {"http": {"url": "https://hooks.example.com/hookwise"}},
        }
    )
    config = outdir.parent / "hookwise.yaml"
    config.write_text(yaml.safe_dump(document, sort_keys=False))
    # The same context `cdk synth` reads from cdk.json (feature flags), plus a subscription.
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    app = cdk.App(
        outdir=str(outdir),
        context={**context, "alarm_email": "oncall@example.com", "config": str(config)},
    )
    stack = build(app)
    assembly = app.synth()  # raises if cdk-nag finds anything unacknowledged
    template_path = Path(assembly.get_stack_by_name(stack.stack_name).template_full_path)
    raw = json.loads(template_path.read_text())
    return Synth(Template.from_json(raw), raw, outdir, stack)
