"""A member's ZIP headers and the central directory, as ZipWriter and the encrypted copy write them: Zip64
when needed, UTF-8 names, "made by" Unix, and the WinZip AES fields for an encrypted member (aes.py)."""

from __future__ import annotations

import struct
import time
from typing import TYPE_CHECKING, BinaryIO

from wizard.core.archive import aes

if TYPE_CHECKING:
    from wizard.core.archive.writer import Entry

ZIP64_LIMIT = 0xFFFFFFFF
UTF8_FLAG = 0x0800
ENCRYPTED_FLAG = 0x0001
DEFLATED = 8
MADE_BY_UNIX = 3 << 8
FILE_ATTRIBUTES = (0o100644 << 16) | 0x20  # regular file rw-r--r--, DOS archive bit


def _dos_datetime(mtime: float) -> tuple[int, int]:
    t = time.localtime(mtime)
    year = min(max(t.tm_year, 1980), 2107)
    dos_time = (t.tm_hour << 11) | (t.tm_min << 5) | (t.tm_sec // 2)
    dos_date = ((year - 1980) << 9) | (t.tm_mon << 5) | t.tm_mday
    return dos_time, dos_date


def _method_fields(e: Entry, zip64: bool) -> tuple[int, int, int, int, bytes]:
    """(version needed, flags, method, CRC, extra after the Zip64 one) of a member, plain or encrypted."""
    if e.encrypted:
        return 51, UTF8_FLAG | ENCRYPTED_FLAG, aes.AES_METHOD, 0, aes.extra_field(DEFLATED)
    return (45 if zip64 else 20), UTF8_FLAG, DEFLATED, e.crc, b""


def local_header(e: Entry) -> bytes:
    """A member's local header (its size never changes once the member is begun)."""
    name = e.name.encode("utf-8")
    dos_time, dos_date = e.dos or _dos_datetime(e.mtime)
    if e.zip64:
        extra = struct.pack("<HHQQ", 1, 16, e.size, e.stored_size)
        size32 = csize32 = ZIP64_LIMIT
    else:
        extra = b""
        size32, csize32 = e.size, e.stored_size
    version, flags, method, crc, more = _method_fields(e, e.zip64)
    extra += more
    return struct.pack(
        "<IHHHHHIIIHH", 0x04034B50, version, flags, method, dos_time, dos_date,
        crc, csize32, size32, len(name), len(extra),
    ) + name + extra


def write_central_directory(fp: BinaryIO, entries: list[Entry]) -> None:
    """The central directory and its end records (Zip64 ones when needed), at the current position."""
    cd_offset = fp.tell()
    for e in entries:
        name = e.name.encode("utf-8")
        dos_time, dos_date = e.dos or _dos_datetime(e.mtime)
        fields = []
        size32, csize32, offset32 = e.size, e.stored_size, e.header_offset
        if e.size >= ZIP64_LIMIT:
            fields.append(e.size)
            size32 = ZIP64_LIMIT
        if e.stored_size >= ZIP64_LIMIT:
            fields.append(e.stored_size)
            csize32 = ZIP64_LIMIT
        if e.header_offset >= ZIP64_LIMIT:
            fields.append(e.header_offset)
            offset32 = ZIP64_LIMIT
        extra = struct.pack(f"<HH{len(fields)}Q", 1, 8 * len(fields), *fields) if fields else b""
        version, flags, method, crc, more = _method_fields(e, bool(fields or e.zip64))
        extra += more
        # "made by" Unix: Info-ZIP unzip then honours the UTF-8 flag instead of applying CP437.
        fp.write(struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, MADE_BY_UNIX | version, version, flags, method,
            dos_time, dos_date, crc, csize32, size32, len(name), len(extra), 0, 0, 0,
            FILE_ATTRIBUTES, offset32,
        ) + name + extra)
    cd_end = fp.tell()
    cd_size = cd_end - cd_offset
    count = len(entries)
    if count >= 0xFFFF or cd_offset >= ZIP64_LIMIT or cd_size >= ZIP64_LIMIT:
        fp.write(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count,
                             cd_size, cd_offset))
        fp.write(struct.pack("<IIQI", 0x07064B50, 0, cd_end, 1))
        fp.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF,
                             ZIP64_LIMIT, ZIP64_LIMIT, 0))
    else:
        fp.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, cd_size,
                             cd_offset, 0))
