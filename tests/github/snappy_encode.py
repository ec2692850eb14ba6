"""A small snappy block encoder for tests: literals and copies chosen greedily (any valid encoding
decodes to the same bytes, so this need not match the reference compressor's choices)."""

from __future__ import annotations


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def literal(data: bytes) -> bytes:
    n = len(data) - 1
    if n < 60:
        return bytes([n << 2]) + data
    size = (n.bit_length() + 7) // 8
    return bytes([(59 + size) << 2]) + n.to_bytes(size, "little") + data


def copy1(length: int, offset: int) -> bytes:
    assert 4 <= length <= 11 and offset < 2048
    return bytes([0x01 | ((length - 4) << 2) | ((offset >> 8) << 5), offset & 0xFF])


def copy2(length: int, offset: int) -> bytes:
    assert 1 <= length <= 64 and offset < 65536
    return bytes([0x02 | ((length - 1) << 2)]) + offset.to_bytes(2, "little")


def copy4(length: int, offset: int) -> bytes:
    assert 1 <= length <= 64
    return bytes([0x03 | ((length - 1) << 2)]) + offset.to_bytes(4, "little")


def compress(data: bytes) -> bytes:
    """Greedy: 4-byte matches found through a hash table become copy-2 elements (<= 64 bytes)."""
    out = bytearray(varint(len(data)))
    table: dict[bytes, int] = {}
    pending = 0
    i = 0
    while i + 4 <= len(data):
        key = data[i : i + 4]
        candidate = table.get(key)
        table[key] = i
        if candidate is not None and i - candidate < 65536:
            length = 4
            while i + length < len(data) and length < 64 and data[candidate + length] == data[i + length]:
                length += 1
            if pending < i:
                out += literal(data[pending:i])
            out += copy2(length, i - candidate)
            i += length
            pending = i
            continue
        i += 1
    if pending < len(data):
        out += literal(data[pending:])
    return bytes(out)
