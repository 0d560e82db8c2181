"""Each deflate chunk inflates on its own, and the chunks together are one ordinary deflate stream."""

from __future__ import annotations

import hashlib
import random
import zipfile
import zlib

import pytest

from tests.core.archive.helpers import MiB, data_offset, mixed_bytes, written_with_plan
from wizard.core.archive import verify_archive
from wizard.core.archive.deflate import deflate_chunk, inflate_chunk


def test_each_chunk_of_a_member_inflates_on_its_own_and_the_whole_still_opens_in_zipfile(tmp_path):
    data = mixed_bytes(5 * MiB + 123, seed=11)
    archive = tmp_path / "a.zip"

    plan = written_with_plan(archive, data)

    assert len(plan["datos/ventas.db"]) == 7  # five full chunks, the rest, the final block
    start, length = data_offset(archive, "datos/ventas.db")
    raw = archive.read_bytes()[start:start + length]
    pieces, offset = [], 0
    for size in plan["datos/ventas.db"]:
        pieces.append(zlib.decompressobj(-15).decompress(raw[offset:offset + size]))
        offset += size
    assert b"".join(pieces) == data
    with zipfile.ZipFile(archive) as zf:
        assert zf.read("datos/ventas.db") == data
    assert verify_archive(archive, chunk_plan=plan).files[0].sha256 == hashlib.sha256(data).hexdigest()


def _block_type(chunk: bytes) -> int:
    return (chunk[0] >> 1) & 0b11  # a deflate block header's BTYPE: 0 stored, 1 fixed, 2 dynamic Huffman


@pytest.mark.parametrize("final", [False, True])
def test_an_incompressible_chunk_is_stored_and_still_one_stream_with_the_others(final):
    photo = random.Random(5).randbytes(MiB)  # a JPEG's bytes: deflate cannot shrink them

    chunk = deflate_chunk(photo, final)

    assert _block_type(chunk) == 0
    assert len(chunk) <= len(photo) + 5 * 17 + 5  # a 5-byte header per 64 KiB block (and a final empty one)
    inflater = zlib.decompressobj(-15)
    assert inflater.decompress(chunk) == photo and inflater.eof == final
    assert inflate_chunk(chunk, final) == photo
    # joined with a deflated chunk before it and the stream's end after it: one ordinary deflate stream
    text = b"venta 1, coca 600ml, 2 piezas\n" * 40000
    stream = deflate_chunk(text, False) + chunk + (b"" if final else deflate_chunk(b"", True))
    assert zlib.decompress(stream, -15) == text + photo


def test_a_chunk_deflate_shrinks_is_deflated_and_one_it_barely_shrinks_is_stored():
    sales = mixed_bytes(MiB, seed=3)
    assert len(deflate_chunk(sales, False)) < 0.9 * len(sales)
    assert _block_type(deflate_chunk(sales, False)) != 0
    rng = random.Random(6)
    almost = bytearray(rng.randbytes(MiB))
    almost[:4096] = bytes(4096)  # 0.4 % compressible: not worth Huffman decoding on every read
    assert _block_type(deflate_chunk(bytes(almost), False)) == 0


def test_a_chunk_half_photo_half_sales_is_still_deflated():
    photo = random.Random(7).randbytes(MiB // 2)
    sales = (b"2026-12-05 caja 1 venta 991 coca 600ml 2 x 18.50\n" * 12000)[:MiB // 2]
    chunk = deflate_chunk(photo + sales, False)
    assert _block_type(chunk) != 0
    assert len(chunk) < 0.6 * MiB
    assert inflate_chunk(chunk, False) == photo + sales
