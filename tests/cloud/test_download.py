"""Downloading a backup from the fake Dropbox with the real SDK (content_hash checked, resumed after a drop,
refused when the bytes do not match), and restoring it: ``respaldos restore --from-cloud NAME``."""

from __future__ import annotations

import random
import sqlite3
import threading
from datetime import datetime, timedelta

import pytest

from tests.cloud.cli import respaldos
from tests.cloud.helpers import FOLDER, MiB, days_ago, make_archive
from tests.helpers import make_sales_db, write_config
from wizard.core import history, restore
from wizard.core.backup import archive_name, list_archives
from wizard.core.cloud import CloudError, DropboxProvider, Offline, VerificationFailed
from wizard.core.cloud.dropbox import VERIFY_ATTEMPTS
from wizard.core.config import CloudConfig, load
from wizard.core.errors import Cancelled
from wizard.core.jobs import run_backup_job


def provider() -> DropboxProvider:
    return DropboxProvider(CloudConfig(provider="dropbox", folder=FOLDER))


def in_dropbox(server, tmp_path, size: int = 9 * MiB + 321, seed: int = 3):
    """An archive-named file of ``size`` random bytes stored in the fake Dropbox; returns (name, bytes)."""
    source = make_archive(tmp_path / "subido", days_ago(1), size, seed=seed)
    data = source.read_bytes()
    server.put_file(f"{FOLDER}/{source.name}", data)
    return source.name, data


def leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_backup_is_downloaded_whole_with_its_content_hash_checked(dropbox_server, signed_in, tmp_path):
    name, data = in_dropbox(dropbox_server, tmp_path)
    dest = tmp_path / "bajado" / name
    dest.parent.mkdir()
    seen = []

    got = provider().download(name, dest, progress=lambda done, total: seen.append((done, total)))

    assert got == dest and dest.read_bytes() == data
    assert seen[-1] == (len(data), len(data)) and seen == sorted(seen)
    assert leftovers(dest.parent) == [name]
    assert [r["status"] for r in dropbox_server.requests("files/download")] == [200]


def test_a_download_whose_bytes_do_not_match_the_hash_is_refused(dropbox_server, signed_in, tmp_path):
    name, _data = in_dropbox(dropbox_server, tmp_path)
    dropbox_server.add_fault("files/download", "corrupt", times=99)
    dest = tmp_path / "bajado" / name
    dest.parent.mkdir()

    with pytest.raises(VerificationFailed) as info:
        provider().download(name, dest)

    assert str(info.value) == (f"La copia de {name} descargada de Dropbox no coincidió con la de la nube después "
                               f"de {VERIFY_ATTEMPTS} intentos, así que no se usó. Vuelve a intentar más tarde o "
                               "usa otro respaldo.")
    assert leftovers(dest.parent) == [], "neither the damaged copy nor its temporary file is kept"
    assert len(dropbox_server.requests("files/download")) == VERIFY_ATTEMPTS


def test_a_copy_damaged_on_the_way_once_is_downloaded_again(dropbox_server, signed_in, tmp_path):
    name, data = in_dropbox(dropbox_server, tmp_path, size=300_000)
    dropbox_server.add_fault("files/download", "corrupt", times=1)
    dest = tmp_path / name

    provider().download(name, dest)

    assert dest.read_bytes() == data
    assert [r["fault"] for r in dropbox_server.requests("files/download")] == ["corrupt", None]


def test_a_connection_dropped_mid_file_continues_where_it_stopped(dropbox_server, signed_in, tmp_path):
    name, data = in_dropbox(dropbox_server, tmp_path)
    dropbox_server.add_fault("files/download", "drop_after", fraction=0.6)
    dest = tmp_path / name

    provider().download(name, dest)

    assert dest.read_bytes() == data
    first, second = dropbox_server.requests("files/download")
    assert (first["offset"], first["fault"]) == (0, "drop_after")
    assert second["status"] == 206 and 0 < second["offset"] <= int(len(data) * 0.6)


def test_a_backup_that_is_not_in_dropbox_is_named(dropbox_server, signed_in, tmp_path):
    folder = tmp_path / "bajado"
    folder.mkdir()
    with pytest.raises(CloudError) as info:
        provider().download("respaldo_2026-11-25_20-00-00.zip", folder / "x.zip")
    assert str(info.value) == "No se encontró respaldo_2026-11-25_20-00-00.zip en la carpeta /Respaldos de Dropbox."
    assert leftovers(folder) == []


def test_offline_the_download_says_to_check_the_connection(dropbox_server, signed_in, tmp_path):
    name, _data = in_dropbox(dropbox_server, tmp_path, size=1000)
    dropbox_server.stop()
    with pytest.raises(Offline) as info:
        provider().download(name, tmp_path / name)
    assert str(info.value) == "No hay conexión con Dropbox. Revisa la conexión a internet y vuelve a intentar."
    assert not (tmp_path / name).exists()


def test_cancel_stops_the_download_and_leaves_nothing(dropbox_server, signed_in, tmp_path):
    name, _data = in_dropbox(dropbox_server, tmp_path)
    cancel = threading.Event()
    dest = tmp_path / "bajado" / name
    dest.parent.mkdir()

    def progress(done, total):
        if done > 0:
            cancel.set()

    with pytest.raises(Cancelled):
        provider().download(name, dest, progress=progress, cancel=cancel)
    assert leftovers(dest.parent) == []


# -- restoring a cloud copy ----------------------------------------------------------------------------------

def shop_in_the_cloud(server, tmp_path):
    """A real backup of a POS folder, uploaded to the fake Dropbox, and no longer on this computer."""
    data = tmp_path / "SICAR" / "datos"
    data.mkdir(parents=True)
    make_sales_db(data / "punto_de_venta.db", rows=1500)
    (data / "foto.jpg").write_bytes(random.Random(5).randbytes(70_000))
    usb = tmp_path / "usb"
    usb.mkdir()
    path = write_config(tmp_path / "respaldos.toml", [data], usb,
                        f'[cloud]\nprovider = "none"\nfolder = "{FOLDER}"\n')
    result = run_backup_job(load(path))
    assert result.succeeded, result.message
    # Uploaded as yesterday's backup, so that a backup made now in the test gets another name.
    name = archive_name(datetime.now().replace(microsecond=0) - timedelta(days=1))
    server.put_file(f"{FOLDER}/{name}", result.archive.read_bytes())
    result.archive.unlink()
    path.write_text(path.read_text(encoding="utf-8").replace('provider = "none"', 'provider = "dropbox"'),
                    encoding="utf-8")
    return data, usb, path, name


def sales(db) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT count(*) FROM sales").fetchone()[0]
    finally:
        conn.close()


def test_the_list_shows_cloud_backups_beside_local_ones(dropbox_server, signed_in, tmp_path):
    _data, _usb, config_path, name = shop_in_the_cloud(dropbox_server, tmp_path)
    dropbox_server.put_file(f"{FOLDER}/notas.txt", b"no es un respaldo")
    config = load(config_path)
    local = run_backup_job(config)  # uploads itself too (cloud on)
    assert local.succeeded

    cloud = restore.list_cloud_backups(config)
    merged = restore.merge_choices(restore.list_local_backups(config), cloud)

    assert sorted(c.name for c in cloud) == sorted([name, local.archive.name])
    assert [(c.name, c.location, c.in_cloud) for c in merged] == [
        (local.archive.name, "local", True), (name, "dropbox", False)]


def test_restore_from_cloud_into_a_folder(dropbox_server, signed_in, tmp_path):
    data, _usb, config_path, name = shop_in_the_cloud(dropbox_server, tmp_path)
    target = tmp_path / "restaurado"

    result = respaldos("restore", "--from-cloud", name, "--to", str(target), "--config", str(config_path))

    assert result.returncode == 0, result.stderr
    assert "Paso 1 de 3: Descargando el respaldo de la nube..." in result.stdout
    assert (target / "datos" / "foto.jpg").read_bytes() == (data / "foto.jpg").read_bytes()
    assert sales(target / "datos" / "punto_de_venta.db") == 1500
    assert leftovers(restore.downloads_dir()) == [], "the downloaded copy is removed afterwards"


def test_restore_from_cloud_with_a_wrong_hash_is_refused_and_restores_nothing(dropbox_server, signed_in, tmp_path):
    data, usb, config_path, name = shop_in_the_cloud(dropbox_server, tmp_path)
    (data / "foto.jpg").write_bytes(b"la foto de hoy")
    dropbox_server.add_fault("files/download", "corrupt", times=99)

    result = respaldos("restore", "--from-cloud", name, "--to-original", "--config", str(config_path))

    assert result.returncode == 1
    assert result.stderr.startswith(f"La copia de {name} descargada de Dropbox no coincidió")
    assert (data / "foto.jpg").read_bytes() == b"la foto de hoy"
    assert list_archives(usb) == [], "no safety backup: nothing was about to be touched"
    assert leftovers(restore.downloads_dir()) == []


def test_restore_from_cloud_to_the_original_place_keeps_a_safety_backup(dropbox_server, signed_in, tmp_path):
    data, usb, config_path, name = shop_in_the_cloud(dropbox_server, tmp_path)
    original = (data / "foto.jpg").read_bytes()
    (data / "foto.jpg").write_bytes(b"la foto de hoy")

    result = respaldos("restore", "--from-cloud", name, "--to-original", "--config", str(config_path))

    assert result.returncode == 0, result.stderr
    assert "Paso 4 de 5: Guardando un respaldo de seguridad de los datos actuales..." in result.stdout
    assert (data / "foto.jpg").read_bytes() == original
    (safety,) = list_archives(usb)
    assert history.read()[-1].trigger == "before-restore"
    assert f"respaldo de seguridad {safety.path}." in result.stdout
    assert dropbox_server.file(f"{FOLDER}/{safety.name}") is None, "the safety backup is not uploaded"
