"""Claim-check bodies compressed in the blob store: a 250 KB push is ~25 KB in S3, so it is
stored (a month, under the lifecycle rule) for a tenth of the price. Ingest writes, the worker
and replay read, through the same wrapper (`wiring.blobs`); the codec is the event item's
(`body_codec`)."""

from __future__ import annotations

import zlib

from hookwise.adapters.blobs import BlobStore
from hookwise.adapters.store.body_codec import pack, unpack


class CompressedBlobStore(BlobStore):
    def __init__(self, inner: BlobStore) -> None:
        self._inner = inner

    def put(self, key: str, body: bytes) -> None:
        self.put_packed(key, pack(body))

    def put_packed(self, key: str, packed: bytes) -> None:
        """Store a body already compressed with `pack`."""
        self._inner.put(key, packed)

    def get(self, key: str) -> bytes:
        stored = self._inner.get(key)
        try:
            return unpack(stored)
        except zlib.error:
            return stored  # written before bodies were compressed
