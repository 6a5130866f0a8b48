"""What every DynamoDB adapter asks of a failed write: did its condition refuse it?"""

from __future__ import annotations

from botocore.exceptions import ClientError


def refused_by_condition(error: ClientError) -> bool:
    """The write's condition did not hold (it is still billed, and nothing was written)."""
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"
