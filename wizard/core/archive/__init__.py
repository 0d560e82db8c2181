"""Write, verify and restore backup archives: standard ZIP files with a ``respaldo.json`` manifest.

Why a ZIP writer of our own: Python's zipfile compresses one entry on one core with zlib level 6
(~19 MB/s here). This writer splits each entry into 1 MiB chunks and deflates them on every core with
ISA-L. Each chunk is compressed on its own and ends on a byte boundary (a sync flush), so the chunks join
into one ordinary deflate stream that Windows Explorer, 7-Zip, unzip and Python's zipfile open, and each
chunk can be inflated on its own too. (Priming each chunk with the previous 32 KiB, as pigz does, saved
only ~0.3 % on POS databases and makes a chunk impossible to inflate before the one before it.)

Verification overlaps compression: a ``read_back`` writer reads every chunk again from the file, through
a second handle, as soon as it is written, and inflates it on the same pool while later chunks are
compressed; its SHA-256 and CRC-32 are those of the data as re-read. Once the file is complete and
fsynced, ``verify_archive`` goes through zipfile's central directory (so the standard reader checks every
archive we make), re-reads each local header and each member's compressed bytes (a CRC-32, to prove they
are the bytes that were inflated) and compares everything with the manifest.
"""

from __future__ import annotations

from wizard.core.archive.deflate import CHUNK_SIZE
from wizard.core.archive.early import EarlyCompression
from wizard.core.archive.extract import restore_archive
from wizard.core.archive.manifest import MANIFEST_NAME, Manifest, ManifestFile, read_manifest
from wizard.core.archive.reading import Report, iter_member, open_zip
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
    "ZipWriter",
    "check_restore_targets",
    "colliding_members",
    "iter_member",
    "open_zip",
    "read_manifest",
    "restore_archive",
    "stays_inside",
    "unrestorable_member_reason",
    "unsafe_member_reason",
    "verify_archive",
]
