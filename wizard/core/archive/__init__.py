"""Backup archives: standard ZIP files with a ``respaldo.json`` manifest, written, verified and restored.

One module per job (this package only re-exports the names other modules use):
    aes.py         WinZip AES-256 (AE-2) encryption of members: MemberEncryption, Unlocker, WrongPassword
    deflate.py     the chunked deflate: CHUNK_SIZE, deflate_chunk, inflate_chunk, stored_blocks
    writer.py      ZipWriter (parallel deflate, Zip64, UTF-8 names, each chunk read back), Entry, ReadBack
    early.py       EarlyCompression: a file's chunks compressed while another program still writes it
    allocator.py   glibc's allocator tuned for the chunk buffers in flight
    manifest.py    Manifest, ManifestFile, MANIFEST_NAME, read_manifest
    reading.py     open_zip, iter_member, hash_member, damaged (the sentence for a damaged archive)
    safe_paths.py  which member names and restore targets are safe to write
    verify.py      verify_archive: every member against the central directory, its local header, the manifest
    extract.py     restore_archive: extract into a folder, each file checked before it takes its place
    headers.py     local headers and the central directory (Zip64, UTF-8, the AES fields)
    encrypt_copy.py  the encrypted copy of a verified archive for the cloud, in one pass

Why a writer of our own, how verification overlaps compression, early compression and the allocator:
docs/design.md, "Archive format and verification".
"""

from __future__ import annotations

from wizard.core.archive.aes import Unlocker, WrongPassword
from wizard.core.archive.deflate import CHUNK_SIZE
from wizard.core.archive.early import EarlyCompression
from wizard.core.archive.extract import restore_archive
from wizard.core.archive.manifest import MANIFEST_NAME, Manifest, ManifestFile, read_manifest
from wizard.core.archive.reading import Report, crc_matches, is_encrypted, iter_member, open_zip
from wizard.core.archive.safe_paths import (
    check_restore_targets,
    colliding_members,
    stays_inside,
    unrestorable_member_reason,
    unsafe_member_reason,
)
from wizard.core.archive.verify import verify_archive
from wizard.core.archive.writer import ZIP64_LIMIT, Entry, ReadBack, ZipWriter

__all__ = [
    "CHUNK_SIZE",
    "MANIFEST_NAME",
    "ZIP64_LIMIT",
    "EarlyCompression",
    "Entry",
    "Manifest",
    "ManifestFile",
    "ReadBack",
    "Report",
    "Unlocker",
    "WrongPassword",
    "ZipWriter",
    "check_restore_targets",
    "colliding_members",
    "crc_matches",
    "is_encrypted",
    "iter_member",
    "open_zip",
    "read_manifest",
    "restore_archive",
    "stays_inside",
    "unrestorable_member_reason",
    "unsafe_member_reason",
    "verify_archive",
]
