"""Worker Lambda: an SQS batch -> route, ask Claude, validate, store; partial batch response."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from hookwise import wiring
from hookwise.observability import logger, metrics, trace_handler


@logger.inject_lambda_context(clear_state=True)
@trace_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return wiring.batch_runner().run(event, context)
