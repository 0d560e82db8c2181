"""End to end: ``respaldos backup`` with Dropbox on makes the local archive, then uploads it verified; offline,
the local backup still succeeds and the cloud line says the upload is pending. Without a terminal the upload's
progress lines carry its speed."""

from __future__ import annotations

import re

from tests.cloud.cli import respaldos
from tests.cloud.helpers import FOLDER
from tests.helpers import make_sales_db, write_config
from wizard.core.backup import list_archives


def shop(tmp_path):
    data = tmp_path / "datos"
    data.mkdir()
    make_sales_db(data / "punto_de_venta.db", rows=2000)
    dest = tmp_path / "respaldos"
    dest.mkdir()
    config = write_config(tmp_path / "respaldos.toml", [data], dest,
                          f'[cloud]\nprovider = "dropbox"\nfolder = "{FOLDER}"\naccount = "Lupita Pérez"\n')
    return config, dest


def test_a_backup_lands_verified_in_dropbox(dropbox_server, signed_in, tmp_path):
    config, dest = shop(tmp_path)

    result = respaldos("backup", "--config", str(config))

    assert result.returncode == 0, result.stderr
    archive = list_archives(dest)[0]
    assert "Nube: 1 respaldo subido y verificado en Dropbox." in result.stdout
    assert dropbox_server.file(f"{FOLDER}/{archive.name}").data == archive.path.read_bytes()


def test_without_a_terminal_the_upload_lines_show_the_speed(dropbox_server, signed_in, tmp_path):
    config, dest = shop(tmp_path)

    result = respaldos("backup", "--config", str(config))  # stdout is a pipe, as in a log

    assert result.returncode == 0, result.stderr
    name = re.escape(list_archives(dest)[0].name)
    upload_lines = [line for line in result.stdout.splitlines() if re.fullmatch(
        rf" *\d+% {name} a \d+(\.\d)? (B|KB|MB|GB)/s", line)]
    assert upload_lines and upload_lines[-1].startswith("100% "), result.stdout


def test_offline_the_local_backup_still_succeeds_and_the_upload_waits(dropbox_server, signed_in, tmp_path):
    config, dest = shop(tmp_path)
    dropbox_server.stop()

    result = respaldos("backup", "--config", str(config))

    assert result.returncode == 0, result.stderr
    assert len(list_archives(dest)) == 1
    assert "Nube: 1 respaldo pendiente de subir (sin conexión)" in result.stderr
