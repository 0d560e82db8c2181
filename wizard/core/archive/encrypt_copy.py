"""An encrypted copy of a finished, verified archive (``[encryption] scope = "cloud"``): one streaming pass that
copies each member's deflate bytes as they are (no re-compression), encrypts them with WinZip AES-256 (aes.py)
and writes new headers and central directory; then the copy is verified with the password (decrypted, its
HMAC, CRC and SHA-256 checked against the manifest) before anyone uploads it. docs/encryption.md."""

from __future__ import annotations

import logging
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

from wizard.core.archive import aes
from wizard.core.archive.deflate import CHUNK_SIZE
from wizard.core.archive.reading import _seek_data, is_encrypted, open_zip
from wizard.core.archive.verify import verify_archive
from wizard.core.archive.writer import ZIP64_LIMIT, Entry, _HashLane, local_header, write_central_directory
from wizard.core.errors import Cancelled

logger = logging.getLogger(__name__)


def is_encrypted_archive(archive: Path) -> bool:
    """Whether ``archive``'s members are encrypted (a ``scope = "all"`` archive needs no copy)."""
    with open_zip(archive) as zf:
        return any(is_encrypted(info) for info in zf.infolist())


def _dos(info: zipfile.ZipInfo) -> tuple[int, int]:
    year, month, day, hour, minute, second = info.date_time
    return (hour << 11) | (minute << 5) | (second // 2), ((year - 1980) << 9) | (month << 5) | day


def encrypt_archive(source: Path, target: Path, password: str, cancel=None,
                    report: Callable[[int], None] | None = None) -> None:
    """Write ``target`` (which must not exist) as ``source`` with every member encrypted, in one pass."""
    with open_zip(source) as zf:
        infos = zf.infolist()
    lane = _HashLane(depth=4)
    try:
        with open(source, "rb") as src, open(target, "xb") as out:
            entries = []
            for info in infos:
                if info.compress_type != zipfile.ZIP_DEFLATED:
                    raise zipfile.BadZipFile(f"{info.filename}: method {info.compress_type}, not deflate")
                entry = Entry(name=info.orig_filename, mtime=0.0, header_offset=out.tell(), zip64=False,
                              size=info.file_size, compress_size=info.compress_size, crc=info.CRC,
                              encrypted=True, dos=_dos(info))
                entry.zip64 = max(entry.size, entry.stored_size) >= ZIP64_LIMIT
                out.write(local_header(entry))
                encryption = aes.MemberEncryption(password)
                out.write(encryption.header)
                _seek_data(src, info)
                done = 0
                while done < info.compress_size:
                    if cancel is not None and cancel.is_set():
                        raise Cancelled()
                    data = src.read(min(CHUNK_SIZE, info.compress_size - done))
                    if not data:
                        raise EOFError(f"{info.filename}: member truncated")
                    data = encryption.encrypt_at(done, data)
                    lane.update(encryption.mac, data)
                    out.write(data)
                    done += len(data)
                    if report is not None:
                        report(len(data))
                lane.sync()
                out.write(encryption.tag())
                entries.append(entry)
            write_central_directory(out, entries)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    finally:
        lane.close()


def make_encrypted_copy(source: Path, folder: Path, password: str, cancel=None,
                        report: Callable[[int], None] | None = None) -> Path:
    """``folder/<source's name>``: the encrypted copy, written as ``.part``, verified with ``password`` and
    only then given the archive's own name (an existing one, verified by an earlier run, is kept)."""
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / source.name
    if final.exists():
        return final
    part = folder / f"{source.name}.part"
    part.unlink(missing_ok=True)
    encrypt_archive(source, part, password, cancel, report)
    try:
        verify_archive(part, cancel=cancel, passwords=[password])
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    os.replace(part, final)
    logger.info("encrypted copy of %s made for the upload", source.name)
    return final
