"""BatchGetItem in requests of at most 100 keys, the keys it leaves unprocessed asked again: how
the adapters read many items of the table in one go."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

# BatchGetItem's limit on keys per request.
BATCH_GET_KEYS = 100


def batch_get(
    client: Any,
    table_name: str,
    keys: Sequence[Mapping[str, Any]],
    *,
    consistent: bool,
    attributes: Sequence[str] = (),
) -> Iterator[dict[str, Any]]:
    """The items found for `keys`, typed as the client types them: DynamoDB's wire types for a
    low-level client, plain values for a resource's (`Table.meta.client`); only `attributes`
    of each, if given (the keys' among them, to tell the items apart)."""
    projection: dict[str, Any] = {}
    if attributes:
        names = {f"#a{i}": name for i, name in enumerate(attributes)}
        projection = {"ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names}
    for start in range(0, len(keys), BATCH_GET_KEYS):
        request: dict[str, Any] = {
            table_name: {
                "Keys": list(keys[start : start + BATCH_GET_KEYS]),
                "ConsistentRead": consistent,
                **projection,
            }
        }
        while request:
            page = client.batch_get_item(RequestItems=request)
            yield from page.get("Responses", {}).get(table_name, [])
            request = page.get("UnprocessedKeys") or {}
