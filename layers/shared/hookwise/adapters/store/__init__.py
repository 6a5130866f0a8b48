from hookwise.adapters.store.base import EventStore, TransitionConflict

__all__ = ["EventStore", "TransitionConflict"]
