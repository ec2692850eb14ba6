"""The snappy block decompressor: hand-built vectors for every element kind, and malformed input."""

from __future__ import annotations

import os
import random

import pytest

from slsalint.sources.snappy import SnappyError, decompress
from tests.github.snappy_encode import compress, copy1, copy2, copy4, literal, varint


def test_empty_output() -> None:
    assert decompress(b"\x00") == b""


def test_literal_only() -> None:
    assert decompress(bytes([5, 4 << 2]) + b"hello") == b"hello"
    assert decompress(varint(5) + literal(b"hello")) == b"hello"


@pytest.mark.parametrize("size", [1, 59, 60, 61, 255, 256, 257, 65536, 65537, 70000])
def test_literal_lengths_in_tag_and_in_1_to_3_extra_bytes(size: int) -> None:
    data = bytes(random.Random(size).randrange(256) for _ in range(size))
    encoded = varint(size) + literal(data)
    if size > 60:
        assert encoded[len(varint(size))] >> 2 >= 60  # the length follows the tag
    assert decompress(encoded) == data


def test_literal_length_in_4_extra_bytes() -> None:
    data = b"x" * 70
    encoded = varint(70) + bytes([63 << 2]) + (69).to_bytes(4, "little") + data
    assert decompress(encoded) == data


def test_copy_1_with_overlap() -> None:
    # "ab" then copy 6 bytes from 2 back: the copy reads what it writes.
    assert decompress(varint(8) + literal(b"ab") + copy1(6, 2)) == b"abababab"


def test_copy_1_with_an_11_bit_offset() -> None:
    prefix = bytes(range(256)) * 5  # 1280 bytes
    encoded = varint(1280 + 11) + literal(prefix) + copy1(11, 1280)
    assert decompress(encoded) == prefix + prefix[:11]


def test_copy_2_run_length() -> None:
    assert decompress(varint(11) + literal(b"a") + copy2(10, 1)) == b"a" * 11


def test_copy_2_without_overlap_and_max_length() -> None:
    data = bytes(range(64))
    assert decompress(varint(128) + literal(data) + copy2(64, 64)) == data * 2


def test_copy_4() -> None:
    data = b"0123456789"
    assert decompress(varint(13) + literal(data) + copy4(3, 10)) == data + b"012"
    assert decompress(varint(16) + literal(b"xyz") + copy4(13, 3)) == b"xyz" * 5 + b"x"


def test_mixed_elements() -> None:
    encoded = varint(19) + literal(b"abcd") + copy1(4, 4) + copy2(5, 3) + literal(b"!") + copy4(5, 14)
    assert decompress(encoded) == b"abcdabcdbcdbc!abcda"


@pytest.mark.parametrize("seed", range(5))
def test_round_trip(seed: int) -> None:
    rng = random.Random(seed)
    words = [os.urandom(rng.randrange(1, 12)) for _ in range(20)]
    data = b"".join(rng.choice(words) for _ in range(rng.randrange(0, 4000)))
    encoded = compress(data)
    assert decompress(encoded) == data
    if len(data) > 200:
        assert len(encoded) < len(data)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty input"),
        (b"\x80", "truncated uncompressed-length"),
        (b"\xff\xff\xff\xff\xff\x01", "longer than 5 bytes"),
        (b"\xff\xff\xff\xff\x7f", "does not fit in 32 bits"),
        (bytes([5, 4 << 2]) + b"hel", "runs past the end"),
        (bytes([70, 60 << 2]), "truncated literal length"),
        (bytes([3, 0]) + b"a", "declares 3"),
        (bytes([1, 4 << 2]) + b"hello", "longer than the declared length"),
        (varint(5) + literal(b"a") + copy1(4, 0), "copy offset 0"),
        (varint(5) + literal(b"a") + copy2(4, 2), "copy offset 2 outside"),
        (varint(5) + literal(b"a") + copy4(4, 1000), "outside"),
        (varint(5) + literal(b"a") + copy2(10, 1), "longer than the declared length"),
        (varint(5) + literal(b"a") + b"\x01", "truncated copy-1"),
        (varint(5) + literal(b"a") + b"\x02\x01", "truncated copy-2"),
        (varint(5) + literal(b"a") + b"\x03\x01\x00", "truncated copy-4"),
        (b'{"mediaType": "x"}', "snappy"),
    ],
)
def test_malformed_input(data: bytes, message: str) -> None:
    with pytest.raises(SnappyError, match="snappy") as caught:
        decompress(data)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_size_limit_is_checked_before_decoding() -> None:
    with pytest.raises(SnappyError, match="over the 100-byte limit"):
        decompress(varint(101) + literal(b"a" * 101), max_size=100)
    assert decompress(varint(100) + literal(b"a") + copy2(64, 1) + copy2(35, 1), max_size=100) == b"a" * 100
    # A bomb: a small input declaring 4 GiB.
    with pytest.raises(SnappyError, match="limit"):
        decompress(varint(0xFFFFFFFF) + literal(b"a") + copy2(64, 1))
