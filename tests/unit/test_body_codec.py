"""The body codec: every sample comes back exact, in either layout; bodies written before
dictionaries (plain zlib) still read; a body from an unknown dictionary fails loudly."""

from __future__ import annotations

import json
import zlib

import pytest

from hookwise.adapters.store.body_codec import (
    COMPRESSION_LEVEL,
    UnknownDictionary,
    dictionaries,
    pack,
    unpack,
)
from hookwise.samples import SAMPLES, sample_bytes

EVERY_SAMPLE = [
    (folder.name, entry.name.removesuffix(".json"))
    for folder in sorted(SAMPLES.iterdir(), key=lambda f: f.name)
    if folder.is_dir()
    for entry in sorted(folder.iterdir(), key=lambda e: e.name)
    if entry.name.endswith(".json")
]
# The Adler-32 of every dictionary ever shipped, each in both layouts: bodies compressed with
# them are stored for a month, so none may change or go (a new version is added beside them).
SHIPPED = {
    0x50750E5B,  # github-1, indented
    0x6CF25C92,  # github-1, compact
    0x82E607A1,  # stripe-1, indented
    0xCD26C978,  # stripe-1, compact
}


def compact(body: bytes) -> bytes:
    return json.dumps(json.loads(body), separators=(",", ":")).encode()


@pytest.mark.parametrize(("source", "event"), EVERY_SAMPLE)
def test_every_sample_comes_back_exact_in_either_layout(source: str, event: str) -> None:
    for body in (sample_bytes(source, event), compact(sample_bytes(source, event))):
        packed = pack(body, source)
        assert unpack(packed) == body
        assert len(packed) <= len(zlib.compress(body, COMPRESSION_LEVEL)) + 4  # + the id


@pytest.mark.parametrize("source", ["github", "stripe"])
def test_a_source_with_a_dictionary_compresses_smaller(source: str) -> None:
    for event in (event for folder, event in EVERY_SAMPLE if folder == source):
        for body in (sample_bytes(source, event), compact(sample_bytes(source, event))):
            assert len(pack(body, source)) < 0.9 * len(zlib.compress(body, COMPRESSION_LEVEL))


def test_a_body_written_with_plain_zlib_still_reads() -> None:
    body = sample_bytes("github", "pull_request.opened")
    assert unpack(zlib.compress(body, COMPRESSION_LEVEL)) == body
    # Sources without a dictionary are still written that way.
    assert pack(body, "elsewhere") == zlib.compress(body, COMPRESSION_LEVEL)


def test_a_body_from_an_unknown_dictionary_fails_loudly() -> None:
    compressor = zlib.compressobj(COMPRESSION_LEVEL, zdict=b'{"a dictionary": "never shipped"}')
    packed = compressor.compress(b'{"a dictionary": 1}') + compressor.flush()
    unknown = zlib.adler32(b'{"a dictionary": "never shipped"}')
    with pytest.raises(UnknownDictionary, match=f"{unknown:#010x}"):
        unpack(packed)


@pytest.mark.parametrize("raw", [b'{"compact":"json"}', b'{\n  "indented": 1\n}', b"\x00\xff"])
def test_what_is_not_a_zlib_stream_is_a_zlib_error(raw: bytes) -> None:
    # The claim-check store reads such bytes as a body stored before compression; a compact
    # JSON body's second byte has the preset-dictionary bit set, and is still not mistaken.
    with pytest.raises(zlib.error):
        unpack(raw)


def test_a_truncated_body_is_an_error_not_a_shorter_body() -> None:
    packed = pack(sample_bytes("github", "push"), "github")
    with pytest.raises(zlib.error):
        unpack(packed[: len(packed) // 2])


def test_every_dictionary_ever_shipped_still_reads() -> None:
    assert set(dictionaries()) >= SHIPPED
