"""What a file is, from its first bytes: SQLite, Firebird/InterBase or Microsoft Access (Jet/ACE).

One small read (``HEADER_BYTES``) per file, opened read-only; nothing is locked or written. The layouts and
where they come from: docs/detect.md, "What a database looks like".
"""

from __future__ import annotations

import os
import struct

from wizard.core.drives import SQLITE_HEADER

HEADER_BYTES = 64
SQLITE = "sqlite"
FIREBIRD = "firebird"
ACCESS = "access"

# Firebird/InterBase header page (ods.h, struct header_page): the 16-byte page header starts with the page
# type (1 = header page), then hdr_page_size (USHORT at 16) and hdr_ods_version (USHORT at 18), native byte
# order (little-endian on the PCs a POS runs on). The ODS major is the low byte; the high byte is 0 for
# InterBase ODS, 0x01 or 0x80 (ODS_FIREBIRD_FLAG) for Firebird's.
FIREBIRD_HEADER_PAGE = 1
FIREBIRD_PAGE_SIZES = frozenset({1024, 2048, 4096, 8192, 16384, 32768})
FIREBIRD_ODS_MAJORS = range(8, 21)  # InterBase 4 (ODS 8) .. Firebird 5 (ODS 13), with room for newer
FIREBIRD_ODS_TYPES = frozenset({0x00, 0x01, 0x80})
# Access: bytes 0-3 are 00 01 00 00, then the engine's name at offset 4.
ACCESS_NAMES = (b"Standard Jet DB", b"Standard ACE DB")

# The smallest database each engine writes (one page): a shorter file is not one.
MIN_DATABASE_BYTES = 512
# Names a POS database goes by when its header cannot be read (a Firebird server on Windows keeps its files
# open without sharing them).
NAME_ONLY = {".fdb": FIREBIRD, ".gdb": FIREBIRD, ".ib": FIREBIRD, ".mdb": ACCESS, ".accdb": ACCESS}


def kind_of_header(head: bytes, size: int | None = None) -> str | None:
    """"sqlite", "firebird", "access" or None for the first bytes of a file (``size``: the file's size)."""
    if head.startswith(SQLITE_HEADER):
        return SQLITE
    if len(head) >= 19 and head[4:19] in ACCESS_NAMES and head[:4] == b"\x00\x01\x00\x00":
        return ACCESS
    if len(head) >= 20 and head[0] == FIREBIRD_HEADER_PAGE:
        page_size, ods = struct.unpack_from("<HH", head, 16)
        if (page_size in FIREBIRD_PAGE_SIZES and (ods & 0xFF) in FIREBIRD_ODS_MAJORS
                and (ods >> 8) in FIREBIRD_ODS_TYPES and (size is None or size % page_size == 0)):
            return FIREBIRD
    return None


def kind_of_file(path: str | os.PathLike[str], size: int | None = None) -> str | None:
    """The kind of database the file at ``path`` is, from one read of its first bytes; None for anything
    else. A file that cannot be opened (held by its server) is judged by its name (``NAME_ONLY``)."""
    if size is not None and size < MIN_DATABASE_BYTES:
        return None
    try:
        with open(path, "rb", buffering=0) as fh:
            head = fh.read(HEADER_BYTES)
    except PermissionError:
        return NAME_ONLY.get(os.path.splitext(os.fspath(path))[1].lower())
    except OSError:
        return None
    return kind_of_header(head, size)
