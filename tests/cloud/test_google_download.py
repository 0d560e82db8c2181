"""Downloading a backup from the fake Google Drive with the real googleapiclient (md5Checksum and size checked
before the file takes its name, ranges resumed after a drop, a copy that never matches refused), and
restoring from it: ``respaldos restore --from-cloud NAME`` with provider = "google_drive"."""

from __future__ import annotations

import sqlite3
import threading
from datetime import datetime, timedelta

import pytest

from tests.cloud.cli import respaldos
from tests.cloud.helpers import FOLDER, days_ago, make_archive
from tests.helpers import make_sales_db, write_config
from wizard.core import restore
from wizard.core.backup import archive_name
from wizard.core.cloud import CloudError, GoogleDriveProvider, Offline, VerificationFailed
from wizard.core.cloud.google.settings import CHUNK_SIZE, VERIFY_ATTEMPTS
from wizard.core.config import CloudConfig, load
from wizard.core.errors import Cancelled
from wizard.core.jobs import run_backup_job


def provider() -> GoogleDriveProvider:
    return GoogleDriveProvider(CloudConfig(provider="google_drive", folder=FOLDER))


def in_drive(server, tmp_path, size: int = CHUNK_SIZE + 321, seed: int = 3):
    """An archive-named file of ``size`` random bytes in the app's folder; returns (name, bytes)."""
    source = make_archive(tmp_path / "subido", days_ago(1), size, seed=seed)
    folder = server.folder("Respaldos") or server.add_folder("Respaldos")
    server.put_file(folder.id, source.name, source.read_bytes())
    return source.name, source.read_bytes()


def leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_backup_is_downloaded_in_ranges_with_its_md5_checked(drive_server, google_signed_in, tmp_path):
    name, data = in_drive(drive_server, tmp_path)
    dest = tmp_path / "bajado" / name
    dest.parent.mkdir()
    seen = []

    got = provider().download(name, dest, progress=lambda done, total: seen.append((done, total)))

    assert got == dest and dest.read_bytes() == data
    assert seen[-1] == (len(data), len(data)) and seen == sorted(seen)
    assert leftovers(dest.parent) == [name]
    assert [r["range"] for r in drive_server.requests("files.download")] == [
        f"bytes=0-{CHUNK_SIZE - 1}", f"bytes={CHUNK_SIZE}-{2 * CHUNK_SIZE - 1}"]


def test_a_download_whose_bytes_do_not_match_the_md5_is_refused(drive_server, google_signed_in, tmp_path):
    name, _data = in_drive(drive_server, tmp_path, size=300_000)
    drive_server.add_fault("files.download", "corrupt", times=99)
    dest = tmp_path / "bajado" / name
    dest.parent.mkdir()

    with pytest.raises(VerificationFailed) as info:
        provider().download(name, dest)

    assert str(info.value) == (f"La copia de {name} descargada de Google Drive no coincidió con la de la nube "
                               f"después de {VERIFY_ATTEMPTS} intentos, así que no se usó. Vuelve a intentar más "
                               "tarde o usa otro respaldo.")
    assert leftovers(dest.parent) == [], "neither the damaged copy nor its temporary file is kept"
    assert len(drive_server.requests("files.download")) == VERIFY_ATTEMPTS


def test_a_copy_damaged_on_the_way_once_is_downloaded_again(drive_server, google_signed_in, tmp_path):
    name, data = in_drive(drive_server, tmp_path, size=300_000)
    drive_server.add_fault("files.download", "corrupt", times=1)
    dest = tmp_path / name

    provider().download(name, dest)

    assert dest.read_bytes() == data
    assert [r["fault"] for r in drive_server.requests("files.download")] == ["corrupt", None]


def test_a_connection_dropped_mid_range_asks_for_that_range_again(drive_server, google_signed_in, tmp_path):
    name, data = in_drive(drive_server, tmp_path, size=2 * CHUNK_SIZE + 5)
    drive_server.add_fault("files.download", "drop_after", skip=1, times=2, fraction=0.6)
    dest = tmp_path / name

    provider().download(name, dest)

    assert dest.read_bytes() == data
    ranges = [(r["range"], r["fault"]) for r in drive_server.requests("files.download")]
    second = f"bytes={CHUNK_SIZE}-{2 * CHUNK_SIZE - 1}"
    assert ranges[:4] == [(f"bytes=0-{CHUNK_SIZE - 1}", None), (second, "drop_after"), (second, "drop_after"),
                          (second, None)]


def test_a_backup_that_is_not_in_google_drive_is_named(drive_server, google_signed_in, tmp_path):
    in_drive(drive_server, tmp_path, size=10)
    with pytest.raises(CloudError) as info:
        provider().download("respaldo_2026-11-25_20-00-00.zip", tmp_path / "x.zip")
    assert str(info.value) == ("No se encontró respaldo_2026-11-25_20-00-00.zip en la carpeta /Respaldos de "
                               "Google Drive.")
    assert not (tmp_path / "x.zip").exists()


def test_offline_the_download_says_to_check_the_connection(drive_server, google_signed_in, tmp_path):
    name, _data = in_drive(drive_server, tmp_path, size=1000)
    drive_server.stop()
    with pytest.raises(Offline, match="No hay conexión con Google Drive"):
        provider().download(name, tmp_path / name)
    assert not (tmp_path / name).exists()


def test_cancel_stops_the_download_and_leaves_nothing(drive_server, google_signed_in, tmp_path):
    name, _data = in_drive(drive_server, tmp_path, size=2 * CHUNK_SIZE)
    cancel = threading.Event()
    dest = tmp_path / "bajado" / name
    dest.parent.mkdir()

    with pytest.raises(Cancelled):
        provider().download(name, dest, progress=lambda done, total: cancel.set(), cancel=cancel)
    assert leftovers(dest.parent) == []


def test_restore_from_google_drive_into_a_folder(drive_server, google_signed_in, tmp_path):
    data = tmp_path / "SICAR" / "datos"
    data.mkdir(parents=True)
    make_sales_db(data / "punto_de_venta.db", rows=1500)
    usb = tmp_path / "usb"
    usb.mkdir()
    path = write_config(tmp_path / "respaldos.toml", [data], usb, f'[cloud]\nprovider = "none"\nfolder = "{FOLDER}"\n')
    result = run_backup_job(load(path))
    assert result.succeeded, result.message
    name = archive_name(datetime.now().replace(microsecond=0) - timedelta(days=1))
    drive_server.put_file(drive_server.add_folder("Respaldos").id, name, result.archive.read_bytes())
    result.archive.unlink()
    path.write_text(path.read_text(encoding="utf-8").replace('"none"', '"google_drive"'), encoding="utf-8")
    target = tmp_path / "restaurado"

    restored = respaldos("restore", "--from-cloud", name, "--to", str(target), "--config", str(path))

    assert restored.returncode == 0, restored.stderr
    conn = sqlite3.connect(target / "datos" / "punto_de_venta.db")
    try:
        assert conn.execute("SELECT count(*) FROM sales").fetchone()[0] == 1500
    finally:
        conn.close()
    assert leftovers(restore.downloads_dir()) == []
