"""`hookwise console`: a local web app over the event store, the DLQ and the governor's state.

Served on loopback for whoever runs it, with their own AWS credentials (or the local stack's);
never part of a Lambda package (infra/layers.py leaves it out, as it does cli/ and local/).
"""
