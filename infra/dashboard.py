"""One dashboard: the door, the queue, the model and what it costs."""

from __future__ import annotations

from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.alarms import ONE_MINUTE, REJECTED_BY_REASON, hookwise_metric, rejected


class Dashboard(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        api: apigw.HttpApi,
        queue: sqs.Queue,
        dlq: sqs.Queue,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name="hookwise")
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Ingest rate", left=[api.metric_count(), hookwise_metric("Received")]
            ),
            cloudwatch.GraphWidget(
                title="Rejected by reason", left=[rejected(REJECTED_BY_REASON, ONE_MINUTE)]
            ),
            cloudwatch.GraphWidget(
                title="Ingest latency",
                left=[api.metric_latency(statistic="p50"), api.metric_latency(statistic="p99")],
            ),
            cloudwatch.GraphWidget(
                title="Queue depth and age",
                left=[
                    queue.metric_approximate_number_of_messages_visible(),
                    dlq.metric_approximate_number_of_messages_visible(),
                ],
                right=[queue.metric_approximate_age_of_oldest_message()],
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Model latency (ms)",
                left=[
                    hookwise_metric("ModelLatency", "p50"),
                    hookwise_metric("ModelLatency", "p99"),
                ],
            ),
            cloudwatch.GraphWidget(
                title="Tokens",
                left=[
                    hookwise_metric(name)
                    for name in (
                        "InputTokens",
                        "OutputTokens",
                        "CacheReadTokens",
                        "CacheWriteTokens",
                    )
                ],
            ),
            cloudwatch.GraphWidget(title="Model cost (USD)", left=[hookwise_metric("CostUSD")]),
            cloudwatch.GraphWidget(
                title="Governor: deferrals and time waited",
                left=[
                    hookwise_metric("Deferred", reason=reason)
                    for reason in ("rate_limit", "capacity", "budget")
                ],
                right=[hookwise_metric("DeferredSeconds", "p90")],
            ),
            cloudwatch.GraphWidget(
                title="Governor: tokens reserved and used",
                left=[hookwise_metric("TokensReserved"), hookwise_metric("TokensUsed")],
            ),
            cloudwatch.GraphWidget(
                title="Outcomes",
                left=[
                    hookwise_metric(name) for name in ("Processed", "Skipped", "Failed", "Retried")
                ],
            ),
        )
