"""Each deflate chunk inflates on its own, and the chunks together are one ordinary deflate stream."""

from __future__ import annotations

import hashlib
import zipfile
import zlib

from tests.core.archive.helpers import MiB, data_offset, mixed_bytes, written_with_plan
from wizard.core.archive import verify_archive


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
