from hookwise.adapters.queue.base import EventQueue

__all__ = ["EventQueue"]
