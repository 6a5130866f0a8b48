"""BlobStore on S3."""

from __future__ import annotations

from typing import Any

import boto3

from hookwise.adapters.blobs.base import BlobStore


class S3BlobStore(BlobStore):
    def __init__(self, bucket: str, client: Any = None) -> None:
        self._bucket = bucket
        self._client = client or boto3.client("s3")

    def put(self, key: str, body: bytes) -> None:
        self._client.put_object(Bucket=self._bucket, Key=key, Body=body)

    def get(self, key: str) -> bytes:
        answer = self._client.get_object(Bucket=self._bucket, Key=key)
        return bytes(answer["Body"].read())
