"""`cdk synth` entry point: the hookwise stack, checked by cdk-nag's AwsSolutions pack."""

from __future__ import annotations

import aws_cdk as cdk

from infra.nag import check
from infra.stack import HookwiseStack


def build(app: cdk.App) -> HookwiseStack:
    stack = HookwiseStack(app, app.node.try_get_context("stack_name") or "Hookwise")
    check(app)
    return stack


if __name__ == "__main__":
    application = cdk.App()
    build(application)
    application.synth()
