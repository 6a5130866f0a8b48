"""The worker: route an event, ask the model, validate, store, deliver."""
