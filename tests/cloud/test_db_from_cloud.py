"""A server database whose backup is only in the cloud: ``respaldos db restore --from-cloud RESPALDO NOMBRE``.

The real MariaDB of tests/dbservers.py and the real Dropbox SDK against the fake server: the backup is made
for real, uploaded, and deleted from this computer; the command downloads it with Dropbox's content_hash
checked, loads the dump as ``db restore ARCHIVO`` does, and deletes the download.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from tests.cloud.cli import respaldos, start
from tests.cloud.helpers import FOLDER
from wizard.core import config as config_mod
from wizard.core import restore, servers
from wizard.core.backup import archive_name, list_archives
from wizard.core.cloud.dropbox import VERIFY_ATTEMPTS
from wizard.core.config import CloudConfig, Config, DestinationConfig, SourceConfig
from wizard.core.jobs import run_backup_job

# mariadb_server (not imported here, so that pytest can rewrite its asserts)
pytest_plugins = ["tests.dbservers"]

SALES = 3000


@dataclass
class CloudShop:
    data: Path  # the shop's folder (empty list of folders when the backup holds only the database)
    usb: Path
    config_path: Path
    database: str  # on the MariaDB server, and the entry's name in the config
    cloud_name: str  # the backup's name in the Dropbox folder


def make_sales_database(server, name: str) -> None:
    """Sales and their lines on the server: ``SALES`` sales of three lines each."""
    server.admin(f"DROP DATABASE IF EXISTS `{name}`; CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    server.admin(f"""
        CREATE TABLE ventas (id INT AUTO_INCREMENT PRIMARY KEY, total DECIMAL(12,2), nota VARCHAR(100)) ENGINE=InnoDB;
        CREATE TABLE venta_lineas (id INT AUTO_INCREMENT PRIMARY KEY, venta_id INT NOT NULL, cantidad INT,
                                   precio DECIMAL(10,2), KEY (venta_id)) ENGINE=InnoDB;
        INSERT INTO ventas (total, nota) SELECT seq * 1.5, CONCAT('venta ñandú ', seq) FROM seq_1_to_{SALES};
        INSERT INTO venta_lineas (venta_id, cantidad, precio)
            SELECT v.seq, k.seq, 10.5 FROM seq_1_to_{SALES} v, seq_1_to_3 k;
    """, database=name)


def shop_in_the_cloud(dropbox_server, server, tmp_path: Path, prefix: str, *, folders: bool = True) -> CloudShop:
    """A real backup of a shop whose POS database is on the MariaDB server (and, with ``folders``, a folder of
    tickets), uploaded to the fake Dropbox and no longer on this computer; the config has Dropbox on."""
    database = f"{prefix}_{os.getpid()}"
    make_sales_database(server, database)
    db = server.source(database)
    servers.set_password(db, server.password)
    data = tmp_path / "SICAR" / "tickets"
    data.mkdir(parents=True)
    (data / "ticket.xml").write_text("<ticket>1</ticket>", encoding="utf-8")
    usb = tmp_path / "usb"
    usb.mkdir()
    cfg = Config(source=SourceConfig(paths=[str(data)] if folders else [], databases=[db]),
                 destination=DestinationConfig(folder=str(usb)), cloud=CloudConfig(provider="none", folder=FOLDER))
    result = run_backup_job(cfg)
    assert result.succeeded, result.message
    # Uploaded as yesterday's backup, then removed here: the cloud holds the only copy.
    cloud_name = archive_name(datetime.now().replace(microsecond=0) - timedelta(days=1))
    dropbox_server.put_file(f"{FOLDER}/{cloud_name}", result.archive.read_bytes())
    result.archive.unlink()
    cfg.cloud = CloudConfig(provider="dropbox", folder=FOLDER)
    config_path = tmp_path / "respaldos.toml"
    config_mod.save(cfg, config_path)
    return CloudShop(data, usb, config_path, database, cloud_name)


def checksums(server, database: str) -> list[str]:
    """CHECKSUM TABLE of the sales tables: equal only when every row is."""
    out = server.admin("CHECKSUM TABLE ventas, venta_lineas", database)
    return [line.split("\t")[1] for line in out.splitlines()]


def count(server, database: str, table: str = "ventas") -> int:
    return int(server.scalar(f"SELECT COUNT(*) FROM {table}", database))


def databases_like(server, prefix: str) -> list[str]:
    return sorted(server.admin(f"SHOW DATABASES LIKE '{prefix}%'").split())


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def run_printed_command(command: str):
    """Run a "respaldos ..." line exactly as the user would copy it into a terminal."""
    words = shlex.split(command)
    assert words[0] == "respaldos"
    return respaldos(*words[1:], timeout=300)


def test_a_dump_whose_backup_is_only_in_the_cloud_is_loaded_into_a_new_database_with_every_row(
        dropbox_server, signed_in, mariadb_server, tmp_path):
    shop = shop_in_the_cloud(dropbox_server, mariadb_server, tmp_path, "solo_en_la_nube")
    assert list_archives(shop.usb) == []
    copy = f"{shop.database}_de_la_nube"

    result = respaldos("db", "restore", "--from-cloud", shop.cloud_name, shop.database, "--as", copy,
                       "--config", str(shop.config_path), timeout=300)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Paso 1 de 2: Descargando el respaldo de la nube..."
    assert "Paso 2 de 2: Cargando la base de datos en el servidor..." in lines
    assert lines[-1] == (f"Se restauró la base de datos {shop.database} como {copy} en el servidor "
                         f"127.0.0.1:{mariadb_server.port}. La original no se tocó.")
    assert count(mariadb_server, copy) == SALES and count(mariadb_server, copy, "venta_lineas") == 3 * SALES
    assert checksums(mariadb_server, copy) == checksums(mariadb_server, shop.database)
    assert [r["status"] for r in dropbox_server.requests("files/download")] == [200]
    assert leftovers(restore.downloads_dir()) == [], "the download is deleted afterwards"
    assert list_archives(shop.usb) == [], "nothing is left in the backup folder either"


def test_a_cloud_copy_whose_hash_does_not_match_is_refused_and_nothing_is_loaded(
        dropbox_server, signed_in, mariadb_server, tmp_path):
    shop = shop_in_the_cloud(dropbox_server, mariadb_server, tmp_path, "nube_danada")
    dropbox_server.add_fault("files/download", "corrupt", times=99)
    before = databases_like(mariadb_server, shop.database)

    result = respaldos("db", "restore", "--from-cloud", shop.cloud_name, shop.database,
                       "--as", f"{shop.database}_copia", "--config", str(shop.config_path), timeout=300)

    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"La copia de {shop.cloud_name} descargada de Dropbox no coincidió con la de la nube después de "
        f"{VERIFY_ATTEMPTS} intentos, así que no se usó. Vuelve a intentar más tarde o usa otro respaldo.")
    assert "Paso 2 de 2" not in result.stdout
    assert databases_like(mariadb_server, shop.database) == before == [shop.database], "no database was made"
    assert len(dropbox_server.requests("files/download")) == VERIFY_ATTEMPTS
    assert leftovers(restore.downloads_dir()) == []


def test_the_original_name_as_the_new_database_is_refused_before_anything_is_downloaded(
        dropbox_server, signed_in, mariadb_server, tmp_path):
    shop = shop_in_the_cloud(dropbox_server, mariadb_server, tmp_path, "nube_mismo_nombre")

    result = respaldos("db", "restore", "--from-cloud", shop.cloud_name, shop.database, "--as", shop.database,
                       "--config", str(shop.config_path), timeout=300)

    assert result.returncode == 1
    assert result.stderr.strip() == ("Para restaurar encima de la base de datos original usa la opción de "
                                     "reemplazarla (con el punto de venta cerrado); si no, elige otro nombre.")
    assert result.stdout == ""
    assert dropbox_server.requests("files/download") == []


def test_ctrl_c_during_the_download_stops_it_loads_nothing_and_leaves_no_download(
        dropbox_server, signed_in, mariadb_server, tmp_path):
    shop = shop_in_the_cloud(dropbox_server, mariadb_server, tmp_path, "nube_cancelada")
    dropbox_server.add_fault("files/download", "stall", retry_after=4)  # Dropbox takes its time to answer
    copy = f"{shop.database}_copia"

    proc = start("db", "restore", "--from-cloud", shop.cloud_name, shop.database, "--as", copy,
                 "--config", str(shop.config_path))
    deadline = time.monotonic() + 30
    while not dropbox_server.requests("oauth2/token"):  # signed in: the download request is on its way
        assert time.monotonic() < deadline and proc.poll() is None, "the download never started"
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)

    assert proc.returncode == 1, out + err
    assert err.strip() == "Restauración cancelada. La base de datos original no se tocó."
    assert "Paso 2 de 2" not in out
    assert databases_like(mariadb_server, shop.database) == [shop.database]
    assert leftovers(restore.downloads_dir()) == []


def test_the_command_printed_after_restoring_a_cloud_backup_in_place_loads_its_dump(
        dropbox_server, signed_in, mariadb_server, tmp_path):
    shop = shop_in_the_cloud(dropbox_server, mariadb_server, tmp_path, "nube_en_su_lugar")
    (shop.data / "ticket.xml").write_text("<ticket>2</ticket>", encoding="utf-8")
    mariadb_server.admin("DELETE FROM ventas WHERE id > 10", database=shop.database)  # a mistake to undo

    result = respaldos("restore", "--from-cloud", shop.cloud_name, "--to-original",
                       "--config", str(shop.config_path), timeout=300)

    assert result.returncode == 0, result.stderr
    assert (shop.data / "ticket.xml").read_text(encoding="utf-8") == "<ticket>1</ticket>"
    command = f'respaldos db restore --from-cloud {shop.cloud_name} {shop.database} --config "{shop.config_path}"'
    assert result.stdout.splitlines()[-1] == f"  {command}"
    assert leftovers(restore.downloads_dir()) == [], "the download is gone, so the command must not name it"
    assert count(mariadb_server, shop.database) == 10, "the server was not touched"

    loaded = run_printed_command(result.stdout.splitlines()[-1])

    assert loaded.returncode == 0, loaded.stderr
    target = re.fullmatch(rf"Se restauró la base de datos {shop.database} como (\S+) en el servidor "
                          rf"127\.0\.0\.1:{mariadb_server.port}\. La original no se tocó\.",
                          loaded.stdout.splitlines()[-1]).group(1)
    assert target.startswith(f"{shop.database}_restaurada_")
    assert count(mariadb_server, target) == SALES and count(mariadb_server, target, "venta_lineas") == 3 * SALES
    assert count(mariadb_server, shop.database) == 10
    assert leftovers(restore.downloads_dir()) == []


def test_a_cloud_backup_of_only_server_databases_is_refused_in_place_with_commands_that_work_with_replace(
        dropbox_server, signed_in, mariadb_server, tmp_path):
    shop = shop_in_the_cloud(dropbox_server, mariadb_server, tmp_path, "nube_sola", folders=False)
    mariadb_server.admin("DELETE FROM venta_lineas; DELETE FROM ventas;", database=shop.database)

    refused = respaldos("restore", "--from-cloud", shop.cloud_name, "--to-original",
                        "--config", str(shop.config_path), timeout=300)

    assert refused.returncode == 1, refused.stdout
    command = refused.stderr.splitlines()[-1].strip()
    assert command == (f'respaldos db restore --from-cloud {shop.cloud_name} {shop.database} '
                       f'--config "{shop.config_path}"')
    assert list_archives(shop.usb) == [] and leftovers(restore.downloads_dir()) == []

    replaced = run_printed_command(command + " --replace")

    assert replaced.returncode == 0, replaced.stderr
    assert count(mariadb_server, shop.database) == SALES
    (safety,) = shop.usb.glob(f"{shop.database}_antes_de_restaurar_*.sql")
    assert safety.read_bytes().rstrip().splitlines()[-1].startswith(b"-- Dump completed")
    assert replaced.stdout.splitlines()[-1] == (
        f"Se restauró la base de datos {shop.database} encima de la original. La copia de seguridad de lo que "
        f"tenía está en {safety}.")
    assert leftovers(restore.downloads_dir()) == []
