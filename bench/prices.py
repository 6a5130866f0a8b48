"""AWS list prices used for the cost estimate: us-east-1, on-demand, arm64 Lambda (late 2026).
One place: change them here."""

from __future__ import annotations

LAMBDA_GB_SECOND_ARM = 0.0000133334
LAMBDA_REQUEST = 0.20 / 1_000_000
# Lambda gives a function CPU in proportion to its memory: one vCPU at 1,769 MB.
LAMBDA_MB_PER_VCPU = 1769
HTTP_API_REQUEST = 1.00 / 1_000_000  # first 300 M requests a month
SQS_REQUEST = 0.40 / 1_000_000  # standard queue, per 64 KB chunk
DYNAMODB_WRITE_UNIT = 0.625 / 1_000_000  # on-demand write request unit (1 KB)
DYNAMODB_READ_UNIT = 0.125 / 1_000_000  # on-demand read request unit (4 KB, strongly consistent)
DYNAMODB_GB_MONTH = 0.25  # standard table class storage
S3_PUT = 0.005 / 1_000  # S3 Standard PUT request
S3_GET = 0.0004 / 1_000  # S3 Standard GET request
S3_GB_MONTH = 0.023  # S3 Standard storage
CLOUDWATCH_LOGS_GB = 0.50  # ingestion
EVENTBRIDGE_EVENT = 1.00 / 1_000_000  # custom events
