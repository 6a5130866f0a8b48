"""The HTTP API: webhooks in (signatures are their auth), events out (IAM-authorised)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

ACCESS_LOG_FORMAT = (
    '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp",'
    '"requestTime":"$context.requestTime","routeKey":"$context.routeKey",'
    '"status":"$context.status","latency":"$context.responseLatency",'
    '"integrationError":"$context.integrationErrorMessage"}'
)


class WebhookApi(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, ingest: lambda_.IFunction) -> None:
        super().__init__(scope, construct_id)
        self.api = apigw.HttpApi(self, "Api", description="hookwise webhooks and events")
        integration = integrations.HttpLambdaIntegration("Ingest", ingest)
        self.api.add_routes(
            path="/webhooks/{source}", methods=[apigw.HttpMethod.POST], integration=integration
        )
        iam = authorizers.HttpIamAuthorizer()
        for path in ("/events", "/events/{event_id}"):
            self.api.add_routes(
                path=path, methods=[apigw.HttpMethod.GET], integration=integration, authorizer=iam
            )
        access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        stage = self.api.default_stage
        assert stage is not None
        cfn_stage = stage.node.default_child
        assert isinstance(cfn_stage, apigw.CfnStage)
        cfn_stage.access_log_settings = apigw.CfnStage.AccessLogSettingsProperty(
            destination_arn=access_logs.log_group_arn, format=ACCESS_LOG_FORMAT
        )
