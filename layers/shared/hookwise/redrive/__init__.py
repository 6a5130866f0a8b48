"""On-call: the dead-letter queue redrive and replay."""
