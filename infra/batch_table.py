"""The batch ledger's table (hookwise/batches): parked events and batch intents per route."""

from __future__ import annotations

from constructs import Construct

from hookwise.resources import (
    BATCH_TABLE_PARTITION_KEY,
    BATCH_TABLE_SORT_KEY,
    BATCH_TABLE_TTL_ATTRIBUTE,
)
from infra.events_table import durable_table, string_key


class BatchTable(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        # An intent names a submitted, paid-for batch: kept like the events themselves, and
        # expiring with them.
        self.table = durable_table(
            self,
            partition_key=string_key(BATCH_TABLE_PARTITION_KEY),
            sort_key=string_key(BATCH_TABLE_SORT_KEY),
            time_to_live_attribute=BATCH_TABLE_TTL_ATTRIBUTE,
        )
