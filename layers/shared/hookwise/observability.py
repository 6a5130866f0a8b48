"""Powertools Logger, Metrics and Tracer, shared by every function.

Logs are JSON with `event_id` as the correlation id; payloads, secrets and signatures are
never logged.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "hookwise"
NAMESPACE = "Hookwise"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
tracer = Tracer(service=SERVICE)
