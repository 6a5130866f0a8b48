"""Sweeper Lambda (scheduled): re-enqueue events stuck in `received`."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from hookwise import wiring
from hookwise.observability import logger, metrics, trace_handler


@logger.inject_lambda_context(clear_state=True)
@trace_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return asdict(wiring.sweeper().sweep())
