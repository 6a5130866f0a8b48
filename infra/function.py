"""A hookwise Lambda function: arm64, the layers, JSON logs with a retention, X-Ray."""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from hookwise.resources import FunctionSpec
from infra.layers import RUNTIME, HookwiseLayers
from infra.paths import FUNCTIONS


class HookwiseFunction(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        folder: str,
        spec: FunctionSpec,
        layers: HookwiseLayers,
        environment: Mapping[str, str],
        description: str,
        reserved_concurrency: int | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        log_group = logs.LogGroup(
            self,
            "Logs",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            handler="handler.handler",
            code=lambda_.Code.from_asset(str(FUNCTIONS / folder), exclude=["__pycache__", "*.pyc"]),
            layers=[layers.dependencies, layers.shared],
            memory_size=spec.memory_mb,
            timeout=cdk.Duration.seconds(spec.timeout_seconds),
            tracing=lambda_.Tracing.ACTIVE,
            log_group=log_group,
            # Lambda's own START/END/REPORT lines only at WARN: ~0.5 KB of ingested logs per
            # invocation that the Duration and Errors metrics already say. Powertools writes
            # JSON with a `level` either way; EMF records have none and pass as INFO.
            logging_format=lambda_.LoggingFormat.JSON,
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            environment={
                "HOOKWISE_CONFIG": "/opt/hookwise.yaml",
                "POWERTOOLS_SERVICE_NAME": "hookwise",
                "POWERTOOLS_METRICS_NAMESPACE": "Hookwise",
                "POWERTOOLS_LOG_LEVEL": "INFO",
                **environment,
            },
            description=description,
            reserved_concurrent_executions=reserved_concurrency,
        )
