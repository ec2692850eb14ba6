"""Snappy block-format decompression (the raw format, not the framed/stream format).

GitHub's attestations API serves ``bundle_url`` bodies snappy-compressed. The format is small:
a little-endian base-128 varint giving the uncompressed length, then elements, each starting with
a tag byte whose low two bits say what follows:

- ``00`` literal: length-1 in the upper six bits (0-59), or 60-63 meaning the length-1 follows in
  1-4 little-endian bytes; then the literal bytes;
- ``01`` copy with a 1-byte offset: length 4-11 (bits 2-4), offset 11 bits (bits 5-7 and one byte);
- ``10`` copy with a 2-byte offset: length 1-64 (upper six bits), 16-bit little-endian offset;
- ``11`` copy with a 4-byte offset: length 1-64, 32-bit little-endian offset.

A copy may overlap its own output (offset < length), which repeats the last ``offset`` bytes.
Every malformed input raises :class:`SnappyError` with a one-line message; the declared length is
checked against ``max_size`` before anything is allocated.
"""

from __future__ import annotations

DEFAULT_MAX_SIZE = 16 * 1024 * 1024


class SnappyError(ValueError):
    """Bytes that are not a valid snappy block (or decompress to more than allowed)."""


def _varint(data: bytes) -> tuple[int, int]:
    """(value, bytes used) of the uncompressed-length preamble (at most 32 bits, 5 bytes)."""
    value = 0
    for i in range(min(len(data), 5)):
        byte = data[i]
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            if value > 0xFFFFFFFF:
                raise SnappyError("snappy: uncompressed length does not fit in 32 bits")
            return value, i + 1
    if len(data) < 5:
        raise SnappyError("snappy: truncated uncompressed-length varint")
    raise SnappyError("snappy: uncompressed-length varint is longer than 5 bytes")


def decompress(data: bytes, *, max_size: int = DEFAULT_MAX_SIZE) -> bytes:
    """Decompress one snappy block; raises SnappyError on malformed input or a size over ``max_size``."""
    if not data:
        raise SnappyError("snappy: empty input")
    length, pos = _varint(data)
    if length > max_size:
        raise SnappyError(f"snappy: uncompressed length {length} is over the {max_size}-byte limit")
    out = bytearray()
    end = len(data)
    while pos < end:
        tag = data[pos]
        pos += 1
        kind = tag & 0x03
        if kind == 0:
            size = tag >> 2
            if size >= 60:
                extra = size - 59
                if pos + extra > end:
                    raise SnappyError("snappy: truncated literal length")
                size = int.from_bytes(data[pos : pos + extra], "little")
                pos += extra
            size += 1
            if pos + size > end:
                raise SnappyError("snappy: literal runs past the end of the input")
            if len(out) + size > length:
                raise SnappyError("snappy: output longer than the declared length")
            out += data[pos : pos + size]
            pos += size
            continue
        if kind == 1:
            if pos + 1 > end:
                raise SnappyError("snappy: truncated copy-1 element")
            size = 4 + ((tag >> 2) & 0x07)
            offset = ((tag >> 5) << 8) | data[pos]
            pos += 1
        elif kind == 2:
            if pos + 2 > end:
                raise SnappyError("snappy: truncated copy-2 element")
            size = 1 + (tag >> 2)
            offset = int.from_bytes(data[pos : pos + 2], "little")
            pos += 2
        else:
            if pos + 4 > end:
                raise SnappyError("snappy: truncated copy-4 element")
            size = 1 + (tag >> 2)
            offset = int.from_bytes(data[pos : pos + 4], "little")
            pos += 4
        if offset == 0 or offset > len(out):
            raise SnappyError(f"snappy: copy offset {offset} outside the {len(out)} bytes written so far")
        if len(out) + size > length:
            raise SnappyError("snappy: output longer than the declared length")
        start = len(out) - offset
        if offset >= size:
            out += out[start : start + size]
        else:
            # Overlapping copy: the pattern of the last ``offset`` bytes repeats.
            pattern = bytes(out[start:])
            repeats, rest = divmod(size, offset)
            out += pattern * repeats + pattern[:rest]
    if len(out) != length:
        raise SnappyError(f"snappy: decompressed {len(out)} bytes, the header declares {length}")
    return bytes(out)
