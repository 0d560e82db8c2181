"""Deflate in independent chunks of CHUNK_SIZE: each is compressed on its own with ISA-L and ends on a byte
boundary, so the chunks join into one ordinary deflate stream and each can also be inflated on its own.
Why, and how the level was chosen: docs/design.md, "Archive format and verification"."""

from __future__ import annotations

import struct

from isal import isal_zlib

CHUNK_SIZE = 1 << 20
COMPRESS_LEVEL = 2  # ISA-L level 2: twice level 3's speed, ~4 % larger (measured: docs/design.md)


# A chunk that deflate shrinks by less than this share (photos, already-compressed files) is written as
# stored blocks instead: at most 85 bytes more per MiB than deflate's own output, and inflated at the speed
# of a copy instead of by decoding Huffman codes (~530 MB/s here): reading back, verifying and restoring
# such data costs next to nothing (docs/design.md, "Incompressible chunks").
STORE_BELOW_GAIN = 0.01


def _looks_incompressible(data: bytes) -> bool:
    """Four 16 KiB samples spread over a large chunk, none of which deflate shrinks by 1 %: the whole chunk is
    stored without being deflated first (a photo's bytes; ~8 GB/s, so nearly free when the answer is no)."""
    if len(data) < 256 << 10:
        return False
    step = len(data) // 4
    for start in range(0, 4 * step, step):
        probe = data[start:start + (16 << 10)]
        if len(isal_zlib.compress(probe, 1, -15)) < len(probe) * (1 - STORE_BELOW_GAIN):
            return False
    return True


def deflate_chunk(data: bytes, final: bool) -> bytes:
    """One chunk as raw deflate, ending on a byte boundary (a sync flush) or, if ``final``, the stream."""
    if _looks_incompressible(data):
        return _stored(data, final)
    comp = isal_zlib.compressobj(COMPRESS_LEVEL, isal_zlib.DEFLATED, -15)
    out = comp.compress(data) + comp.flush(isal_zlib.Z_FINISH if final else isal_zlib.Z_SYNC_FLUSH)
    if data and len(out) > len(data) * (1 - STORE_BELOW_GAIN):
        stored = _stored(data, final)
        if len(stored) <= len(out) + len(data) * STORE_BELOW_GAIN:
            return stored
    return out


_FINAL_EMPTY_STORED = struct.pack("<BHH", 1, 0, 0xFFFF)  # an empty stored block that ends the stream


def _stored(data: bytes, final: bool) -> bytes:
    """``data`` as stored blocks, ending the stream if ``final``: a chunk deflate cannot shrink."""
    return stored_blocks(data) + (_FINAL_EMPTY_STORED if final else b"")


def inflate_chunk(data: bytes, final: bool) -> bytes:
    """One chunk written by ``deflate_chunk``: all of it must be consumed, and only the last one ends
    the stream. No chunk inflates to more than CHUNK_SIZE; saying so lets the output buffer be allocated
    once instead of grown and copied (a third less CPU)."""
    inflater = isal_zlib.decompressobj(-15)
    out = inflater.decompress(data, CHUNK_SIZE + 1)
    if len(out) > CHUNK_SIZE or inflater.unconsumed_tail or inflater.unused_data or inflater.eof != final:
        raise isal_zlib.error("deflate chunk boundary mismatch")
    return out


def stored_blocks(data: bytes) -> bytes:
    """``data`` as deflate stored blocks (not final): a size known before the data is, so a placeholder
    can be written first and filled in later."""
    view = memoryview(data)
    parts: list[bytes | memoryview] = []
    for start in range(0, max(len(data), 1), 0xFFFF):
        piece = view[start:start + 0xFFFF]
        parts += (struct.pack("<BHH", 0, len(piece), len(piece) ^ 0xFFFF), piece)
    return b"".join(parts)  # one copy of the data
