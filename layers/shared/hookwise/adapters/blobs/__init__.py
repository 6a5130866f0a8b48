from hookwise.adapters.blobs.base import BlobStore

__all__ = ["BlobStore"]
