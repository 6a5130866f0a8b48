"""cdk-nag (v3, a CDK policy-validation plugin): the pack, and acknowledgments with reasons."""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from constructs import Construct


def check(app: cdk.App) -> None:
    """Run the AwsSolutions pack at synth; an unacknowledged finding fails the synth."""
    cdk.Validations.of(app).add_plugins(
        AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True)
    )


def acknowledge(scope: Construct, reason: str, *rules: str) -> None:
    """Accept findings on `scope` and below, each named exactly (`Rule[finding]`), with why."""
    for rule in rules:
        cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))
