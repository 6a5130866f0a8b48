"""The HTTP API: webhooks in (signatures are their auth), events out (IAM-authorised)."""

from __future__ import annotations

import aws_cdk as cdk
import jsii
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from hookwise.resources import EVENT_ROUTE, EVENTS_ROUTE, WEBHOOK_ROUTE
from infra.limits import FloodLimits

ACCESS_LOG_FORMAT = (
    '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp",'
    '"requestTime":"$context.requestTime","routeKey":"$context.routeKey",'
    '"status":"$context.status","latency":"$context.responseLatency",'
    '"integrationError":"$context.integrationErrorMessage"}'
)


@jsii.implements(apigw.IAccessLogSettings)
class AccessLogs:
    """JSON access logs to a log group (a jsii interface: the class states what it provides)."""

    def __init__(self, group: logs.ILogGroup) -> None:
        self._group = group

    @property
    def destination(self) -> apigw.IAccessLogDestination:
        return apigw.LogGroupLogDestination(self._group)

    @property
    def format(self) -> apigateway.AccessLogFormat:
        return apigateway.AccessLogFormat.custom(ACCESS_LOG_FORMAT)


class WebhookApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        ingest: lambda_.IFunction,
        limits: FloodLimits,
    ) -> None:
        super().__init__(scope, construct_id)
        self.api = apigw.HttpApi(
            self, "Api", description="hookwise webhooks and events", create_default_stage=False
        )
        access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        # The `$default` stage HttpApi would create (same construct id, so the same logical id),
        # with the flood limits: above them API Gateway answers 429 without calling ingest.
        self.stage = apigw.HttpStage(
            self.api,
            "DefaultStage",
            http_api=self.api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigw.ThrottleSettings(
                rate_limit=limits.api_rate, burst_limit=limits.api_burst
            ),
            access_log_settings=AccessLogs(access_logs),
        )
        integration = integrations.HttpLambdaIntegration("Ingest", ingest)
        # Providers cannot sign with SigV4: the webhook route is open (signatures are checked
        # in the function); the events routes are for operators, under IAM.
        iam = authorizers.HttpIamAuthorizer()
        for route_key, authorizer in (
            (WEBHOOK_ROUTE, None),
            (EVENTS_ROUTE, iam),
            (EVENT_ROUTE, iam),
        ):
            method, path = route_key.split(" ", 1)
            self.api.add_routes(
                path=path,
                methods=[apigw.HttpMethod(method)],
                integration=integration,
                authorizer=authorizer,
            )
