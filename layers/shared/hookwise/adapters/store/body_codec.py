"""The one codec of stored bodies, for the event item's `body_z` and the S3 claim check alike:
zlib at level 6, with a preset dictionary for the providers that have one.

DynamoDB bills a write per started KB of the item, and the first occurrence of every key name
and URL template in a body costs literals; a dictionary of them turns those into back-
references. The dictionaries (`dictionaries/<provider>-<version>.json`, a provider named by its
signature scheme) are neutral text: the providers' key names and URL templates for a made-up
account (acme/app), least common part first, since zlib reaches the end of a dictionary at the
shortest distances. The 32 KB pull request sample: 4,099 -> 3,335 bytes, an event item of 4
write units instead of 5; the 2.3 KB Stripe sample: 903 -> 407 bytes, 1 unit instead of 2. The
repository object alone (in nearly every GitHub payload) is 5 KB of the 9 KB GitHub dictionary.

Each dictionary is rendered in the two layouts JSON bodies arrive in, indented by two spaces
(as the shipped samples are) or compact, and a body is compressed with the one in its own
layout: a dictionary in the other layout gives back most of the gain (the compact PR sample:
3,393 -> 2,498 bytes with the compact rendering, 2,928 with the indented one).

Which dictionary compressed a body travels in the body: zlib's header (RFC 1950) flags a
preset dictionary and carries its Adler-32, so bodies written with plain zlib, before
dictionaries or for sources without one, read as they always did. A shipped dictionary never
changes (the bodies it compressed would no longer read): a new one is the next version beside
it, the newest version compresses, and every version reads.
"""

from __future__ import annotations

import json
import zlib
from functools import cache
from pathlib import Path
from typing import Any

# Level 6: 0.18 ms for the 32 KB PR sample (0.21 ms with its dictionary, medians of 5,000);
# level 9 gains 1.5 % for twice the time.
COMPRESSION_LEVEL = 6
# `<provider>-<version>.json`: a list of parts, each a JSON value as it sits in a body.
DICTIONARIES = Path(__file__).with_name("dictionaries")
INDENTED, COMPACT = "indented", "compact"
# Bits of the zlib header (RFC 1950): CM (the method, 8 = deflate) and FDICT.
DEFLATE = 8
PRESET_DICTIONARY = 0x20


class UnknownDictionary(ValueError):
    """A body compressed with a preset dictionary this code does not ship."""


def _layout(body: bytes) -> str:
    return INDENTED if body[1:2] == b"\n" else COMPACT


def _render(parts: list[Any], layout: str) -> bytes:
    """A dictionary's text in one layout, each part as it would sit at the top of a body."""
    if layout == INDENTED:
        return "\n".join(json.dumps(part, indent=2) for part in parts).encode()
    return "".join(json.dumps(part, separators=(",", ":")) for part in parts).encode()


@cache
def _shipped() -> dict[str, dict[int, list[Any]]]:
    """Every dictionary's parts, by provider (a signature scheme's name) and version."""
    found: dict[str, dict[int, list[Any]]] = {}
    for path in DICTIONARIES.glob("*.json"):
        provider, _, version = path.stem.rpartition("-")
        found.setdefault(provider, {})[int(version)] = json.loads(path.read_text())
    return found


@cache
def _writing(provider: str, layout: str) -> bytes | None:
    versions = _shipped().get(provider)
    return _render(versions[max(versions)], layout) if versions else None


@cache
def dictionaries() -> dict[int, bytes]:
    """Every shipped dictionary, in both layouts, by its Adler-32 (zlib's id for it)."""
    rendered = [
        _render(parts, layout)
        for versions in _shipped().values()
        for parts in versions.values()
        for layout in (INDENTED, COMPACT)
    ]
    return {zlib.adler32(text): text for text in rendered}


def pack(body: bytes, provider: str | None = None) -> bytes:
    """The body compressed, with the provider's newest dictionary if it has one (`provider`:
    the source's signature scheme, `github` or `stripe`, whatever the source is called)."""
    dictionary = _writing(provider, _layout(body)) if provider else None
    if dictionary is None:
        return zlib.compress(body, COMPRESSION_LEVEL)
    compressor = zlib.compressobj(COMPRESSION_LEVEL, zdict=dictionary)
    return compressor.compress(body) + compressor.flush()


def unpack(packed: bytes) -> bytes:
    """A body written by `pack`, whichever dictionary, or none, compressed it; zlib.error if
    `packed` is not a zlib stream."""
    header = int.from_bytes(packed[:2], "big")
    if not (
        len(packed) > 6
        and packed[0] & 0x0F == DEFLATE
        and header % 31 == 0
        and packed[1] & PRESET_DICTIONARY
    ):
        return zlib.decompress(packed)
    wanted = int.from_bytes(packed[2:6], "big")
    dictionary = dictionaries().get(wanted)
    if dictionary is None:
        raise UnknownDictionary(
            f"body compressed with preset dictionary {wanted:#010x}, which this code does not "
            f"ship (known: {', '.join(f'{key:#010x}' for key in sorted(dictionaries()))})"
        )
    decompressor = zlib.decompressobj(zdict=dictionary)
    body = decompressor.decompress(packed) + decompressor.flush()
    if not decompressor.eof:
        raise zlib.error("incomplete compressed body")
    return body
