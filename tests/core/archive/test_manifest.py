"""The manifest lists every file backed up, with its size, mtime, SHA-256 and kind."""

from __future__ import annotations

import hashlib
import socket
from datetime import datetime

from tests.core.archive.helpers import FIRST_MTIME, SHOP_FILES, SHOP_ROOT, expected_tree
from wizard import __version__
from wizard.core.archive import read_manifest


def test_the_manifest_lists_every_file_with_size_mtime_sha256_and_kind(shop_archive):
    manifest = read_manifest(shop_archive)
    assert manifest.app == "Respaldos" and manifest.version == __version__
    assert manifest.host == socket.gethostname()
    assert [s["archive_path"] for s in manifest.sources] == [SHOP_ROOT]
    listed = {f.path: f for f in manifest.files}
    assert set(listed) == set(expected_tree())
    for i, (rel, data) in enumerate(SHOP_FILES.items()):
        entry = listed[f"{SHOP_ROOT}/{rel}"]
        assert entry.size == len(data)
        assert entry.sha256 == hashlib.sha256(data).hexdigest()
        assert entry.kind == "file"
        assert datetime.fromisoformat(entry.mtime).timestamp() == FIRST_MTIME + 120 * i
