"""Bodies too large for a DynamoDB item (claim check), expiring with the table's TTL."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from constructs import Construct

from hookwise.settings import Settings
from infra.nag import acknowledge


class PayloadBucket(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        retention = cdk.Duration.days(Settings.from_environment().event_ttl_days)
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(expiration=cdk.Duration.days(90))],
        )
        acknowledge(
            self.access_logs,
            "This is the access-log bucket itself; logging it to itself would loop.",
            "AwsSolutions-S1",
        )
        self.bucket = s3.Bucket(
            self,
            "Payloads",
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="payloads/",
            lifecycle_rules=[s3.LifecycleRule(expiration=retention)],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
