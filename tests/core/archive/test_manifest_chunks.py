"""The manifest lists each member's deflate chunks (their compressed sizes), so restore, verify and the restore
drill inflate them on every core; a list that does not fit the member is not used, and one that fits but
does not fall on the chunks' ends fails the member as damage would."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from tests.core.archive.helpers import MiB, back_up, mixed_bytes
from wizard import __version__
from wizard.core.archive import MANIFEST_NAME, Manifest, ManifestFile, ZipWriter, read_manifest
from wizard.core.archive.extract import restore_archive
from wizard.core.errors import ArchiveDamaged

DATA = mixed_bytes(5 * MiB + 12345, seed=21)
MEMBER = "datos/ventas.db"


def archive_listing(path: Path, chunks_for) -> list[int]:
    """An archive of DATA whose manifest lists ``chunks_for(real chunk sizes)``; returns the real sizes."""
    with open(path, "wb") as fp:
        writer = ZipWriter(fp)
        entry = writer.add_bytes(MEMBER, DATA)
        manifest = Manifest(app="Respaldos", version=__version__, created="2026-12-05T05:00:00-06:00",
                            host="caja", sources=[])
        manifest.files.append(ManifestFile(path=MEMBER, size=entry.size, mtime="2026-12-05T05:00:00-06:00",
                                           sha256=entry.sha256, chunks=chunks_for(list(entry.chunks))))
        writer.add_bytes(MANIFEST_NAME, manifest.to_json())
        writer.close()
    return list(entry.chunks)


def test_a_backup_lists_every_members_chunks_and_they_cut_its_compressed_bytes_exactly(tmp_path):
    source = tmp_path / "Tienda"
    source.mkdir()
    (source / "ventas.db").write_bytes(DATA)
    (source / "vacio.txt").write_bytes(b"")
    archive = back_up(source, tmp_path / "destino", tmp_path / "respaldos.toml")

    manifest = read_manifest(archive)
    with zipfile.ZipFile(archive) as zf:
        for mf in manifest.files:
            assert sum(mf.chunks) == zf.getinfo(mf.path).compress_size, mf.path
    big = next(mf for mf in manifest.files if mf.path.endswith("ventas.db"))
    assert len(big.chunks) >= 6  # one per MiB of data, and the stream's end
    raw = json.loads(zipfile.ZipFile(archive).read(MANIFEST_NAME))
    assert [f["chunks"] for f in raw["files"]] == [mf.chunks for mf in manifest.files]


def test_restore_uses_the_manifests_chunks(tmp_path):
    archive_listing(tmp_path / "bien.zip", lambda real: real)
    restore_archive(tmp_path / "bien.zip", tmp_path / "a")
    assert (tmp_path / "a" / MEMBER).read_bytes() == DATA

    # The same bytes, but a list shifted by one byte: used, it cannot cut the stream, so the member is damaged.
    archive_listing(tmp_path / "corrido.zip", lambda real: [real[0] - 1, real[1] + 1, *real[2:]])
    with pytest.raises(ArchiveDamaged, match="ventas.db"):
        restore_archive(tmp_path / "corrido.zip", tmp_path / "b")
    assert not (tmp_path / "b" / MEMBER).exists()


@pytest.mark.parametrize("listed", ["none", "short", "too large", "zero"])
def test_a_list_that_cannot_cut_the_member_is_not_used_and_the_member_still_restores(tmp_path, listed):
    def chunks_for(real: list[int]) -> list[int]:
        return {"none": [], "short": real[:-1], "too large": [sum(real)], "zero": [0, *real]}[listed]

    archive_listing(tmp_path / "a.zip", chunks_for)
    restore_archive(tmp_path / "a.zip", tmp_path / "a")
    assert (tmp_path / "a" / MEMBER).read_bytes() == DATA


@pytest.mark.parametrize("value", ["12", [1.5, 2], [-1], [True, 3], None, {"a": 1}])
def test_a_chunks_field_that_is_not_a_list_of_sizes_reads_as_no_list(value):
    raw = {"format": 1, "files": [{"path": MEMBER, "size": 3, "sha256": "0" * 64, "chunks": value}]}
    assert Manifest.from_json(json.dumps(raw).encode()).files[0].chunks == []


def test_a_member_without_chunks_is_written_without_the_field():
    mf = ManifestFile(path=MEMBER, size=0, mtime="", sha256="0" * 64)
    assert "chunks" not in mf.to_dict()
