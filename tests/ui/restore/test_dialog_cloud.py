"""The "Restaurar..." dialog with a backup that is only in the cloud and holds a server database: the real Tk
window (Xvfb), the real dropbox SDK against the fake Dropbox, the real MariaDB of tests/dbservers.py.

Its contents are not known before it is downloaded, so the databases of the config are offered under
"Bases de datos del servidor": "Restaurar como base de datos nueva..." downloads it on a worker with
Dropbox's content_hash checked, loads the dump into a new database and deletes the download.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from tests.cloud import conftest as cloud_fixtures
from tests.ui.conftest import pump
from wizard.core import config as config_mod
from wizard.core import restore, servers
from wizard.core.backup import archive_name, list_archives
from wizard.core.cloud.dropbox import VERIFY_ATTEMPTS
from wizard.core.config import CloudConfig
from wizard.core.jobs import run_backup_job

cloud_env = cloud_fixtures.cloud_env  # autouse: CA, keyring file, app key
dropbox_server = cloud_fixtures.dropbox_server
signed_in = cloud_fixtures.signed_in

# mariadb_server: a real MariaDB for the dumps
pytest_plugins = ["tests.dbservers"]

FOLDER = "/Respaldos"
SALES = 400


def backup_only_in_the_cloud(saved_config: Path, server, dropbox_server, database: str, *,
                             folders: bool = True) -> str:
    """A real backup of the POS folder (with ``folders``) and of ``database`` on the MariaDB server, uploaded
    to the fake Dropbox as yesterday's backup and removed here; the config then has Dropbox on."""
    server.admin(f"DROP DATABASE IF EXISTS `{database}`; CREATE DATABASE `{database}`")
    server.admin("CREATE TABLE ventas (id INT AUTO_INCREMENT PRIMARY KEY, total DECIMAL(10,2)) ENGINE=InnoDB;"
                 f"INSERT INTO ventas (total) SELECT seq * 1.5 FROM seq_1_to_{SALES};", database=database)
    db = server.source(database)
    servers.set_password(db, server.password)
    config = config_mod.load(saved_config)
    config.source.databases = [db]
    if not folders:
        config.source.paths = []
    result = run_backup_job(config)
    assert result.succeeded, result.message
    name = archive_name(datetime.now().replace(microsecond=0) - timedelta(days=1))
    dropbox_server.put_file(f"{FOLDER}/{name}", result.archive.read_bytes())
    result.archive.unlink()
    config.cloud = CloudConfig(provider="dropbox", folder=FOLDER)
    config_mod.save(config, saved_config)
    return name


def open_on_the_cloud_backup(tk_root, window, name: str):
    window.summary.restore_button.invoke()
    dialog = window.summary.restore_dialog
    assert pump(tk_root, until=lambda: dialog.selected is not None and dialog.selected.name == name, timeout=60), \
        dialog.list_status.cget("text")
    assert not dialog.selected.local and dialog.contents is None
    return dialog


def tree_texts(tree, item="") -> list[str]:
    found = []
    for child in tree.get_children(item):
        found.append(" | ".join([tree.item(child, "text"), *map(str, tree.item(child, "values"))]))
        found += tree_texts(tree, child)
    return found


def count(server, database: str) -> int:
    return int(server.scalar("SELECT COUNT(*) FROM ventas", database))


def databases_like(server, prefix: str) -> list[str]:
    """The database ``prefix`` and those restored from it (other tests share the server: exact names only)."""
    names = server.admin("SHOW DATABASES").split()
    return sorted(n for n in names if n == prefix or n.startswith(f"{prefix}_restaurada_"))


def leftovers() -> list[str]:
    folder = restore.downloads_dir()
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_cloud_only_backup_offers_its_server_database_and_loads_it_as_a_new_one_after_a_checked_download(
        tk_root, open_window, saved_config, pos_data, usb, dialogs, dropbox_server, signed_in, mariadb_server):
    name = backup_only_in_the_cloud(saved_config, mariadb_server, dropbox_server, "ventana_dialogo", folders=False)
    mariadb_server.admin("DELETE FROM ventas WHERE id > 10", database="ventana_dialogo")  # today's mistake
    window = open_window(saved_config, sync_cloud=False)
    dialog = open_on_the_cloud_backup(tk_root, window, name)

    lines = tree_texts(dialog.contents_tree)
    assert lines[0] == "Bases de datos del servidor |  | las de la configuración"
    assert lines[1] == f"ventana_dialogo |  | MySQL/MariaDB · 127.0.0.1:{mariadb_server.port} · ventana_dialogo"
    assert lines[2] == "Este respaldo está en Dropbox: se descargará y se comprobará al restaurarlo."
    assert dialog.dump_row.winfo_manager() == "grid"
    assert dialog.dump_button.instate(["!disabled"]), "the only configured database is the one restored"
    assert "Antes se descarga el respaldo de Dropbox y se comprueba." in dialog.dump_note.cget("text")

    phases = []
    shown = dialog._progress
    dialog._progress = lambda event: (phases.append((event.step, event.steps, event.phase)), shown(event))
    dialog.dump_button.invoke()
    question = dialogs.questions[-1]
    assert question.startswith(f"¿Restaurar la base de datos ventana_dialogo del respaldo "
                               f"{restore.when_phrase(dialog.selected.created)} como una base de datos nueva?")
    assert question.endswith("Primero se descargará el respaldo de Dropbox y se comprobará que llegó completo.")
    target = question.split("Se creará ", 1)[1].split(" en el servidor ", 1)[0]
    assert target.startswith("ventana_dialogo_restaurada_")
    assert dialog.view == "progress" and dialog.running, "download and load run on a worker"
    assert str(dialog.step_label.cget("text")) == "Paso 1 de 2: Descargando el respaldo de la nube..."
    assert pump(tk_root, until=lambda: dialog.view == "result", timeout=120)

    assert dialog.restored_database is not None, dialog.result_text
    assert dialog.result_text == (f"Se restauró la base de datos ventana_dialogo como {target} en el servidor "
                                  f"127.0.0.1:{mariadb_server.port}. La original no se tocó.")
    assert phases[-1] == (2, 2, "database"), "step 2 of 2 loads the dump (the bridge shows the latest event)"
    assert count(mariadb_server, target) == SALES
    assert count(mariadb_server, "ventana_dialogo") == 10, "the database the POS uses is not touched"
    assert [r["status"] for r in dropbox_server.requests("files/download")] == [200]
    assert leftovers() == [], "the download is deleted afterwards"
    assert list_archives(usb) == [], "nothing is kept in the backup folder"


def test_a_cloud_copy_that_does_not_match_its_hash_is_refused_and_no_database_is_made(
        tk_root, open_window, saved_config, pos_data, usb, dialogs, dropbox_server, signed_in, mariadb_server):
    name = backup_only_in_the_cloud(saved_config, mariadb_server, dropbox_server, "ventana_no_coincide")
    dropbox_server.add_fault("files/download", "corrupt", times=99)
    window = open_window(saved_config, sync_cloud=False)
    dialog = open_on_the_cloud_backup(tk_root, window, name)

    dialog.contents_tree.selection_set("db:0")
    dialog.dump_button.invoke()
    assert pump(tk_root, until=lambda: dialog.view == "result", timeout=120)

    assert dialog.restored_database is None
    assert dialog.result_text == (
        f"La copia de {name} descargada de Dropbox no coincidió con la de la nube después de {VERIFY_ATTEMPTS} "
        f"intentos, así que no se usó. Vuelve a intentar más tarde o usa otro respaldo.")
    assert databases_like(mariadb_server, "ventana_no_coincide") == ["ventana_no_coincide"], "no database was made"
    assert leftovers() == []
    assert dialog.back_button.winfo_manager() == "pack"


def test_cancel_during_the_download_loads_nothing_and_leaves_no_download(
        tk_root, open_window, saved_config, pos_data, usb, dialogs, dropbox_server, signed_in, mariadb_server):
    name = backup_only_in_the_cloud(saved_config, mariadb_server, dropbox_server, "ventana_cancelada")
    dropbox_server.add_fault("files/download", "stall", retry_after=4)  # Dropbox takes its time to answer
    window = open_window(saved_config, sync_cloud=False)
    dialog = open_on_the_cloud_backup(tk_root, window, name)

    dialog.dump_button.invoke()
    assert pump(tk_root, until=lambda: dropbox_server.requests("files/download"), timeout=30)
    assert dialog.cancel_button.instate(["!disabled"])
    dialog.cancel_button.invoke()
    assert pump(tk_root, until=lambda: dialog.view == "result", timeout=60)

    assert dialog.result_text == "Restauración cancelada. No se cambió nada."
    assert databases_like(mariadb_server, "ventana_cancelada") == ["ventana_cancelada"]
    assert leftovers() == []


def test_after_restoring_a_cloud_backup_in_place_the_sentence_leads_back_to_a_button_that_loads_its_database(
        tk_root, open_window, saved_config, pos_data, usb, dialogs, dropbox_server, signed_in, mariadb_server):
    name = backup_only_in_the_cloud(saved_config, mariadb_server, dropbox_server, "ventana_en_su_lugar")
    (pos_data / "factura F1001.xml").write_text("hoy", encoding="utf-8")
    window = open_window(saved_config, sync_cloud=False)
    dialog = open_on_the_cloud_backup(tk_root, window, name)

    dialog.original_button.invoke()
    assert dialogs.questions[-1].endswith(
        "Las bases de datos del servidor (ventana_en_su_lugar) no se restauran en su lugar original; después puedes "
        "restaurarlas como bases de datos nuevas.")
    assert pump(tk_root, until=lambda: dialog.view == "result", timeout=120)

    assert dialog.report is not None, dialog.result_text
    assert (pos_data / "factura F1001.xml").read_text(encoding="utf-8") == "<cfdi:Comprobante Folio='1001'/>"
    lines = dialog.result_text.splitlines()
    assert lines[-2] == ("Para recuperarlas sin tocar las que usa el punto de venta, vuelve a la lista, elígelas en "
                         "«Contenido» y pulsa «Restaurar como base de datos nueva...» (el respaldo se descarga otra "
                         "vez de Dropbox), o usa en una terminal:")
    assert lines[-1] == f'respaldos db restore --from-cloud {name} ventana_en_su_lugar --config "{saved_config}"'
    assert leftovers() == []

    assert dialog.back_button.winfo_manager() == "pack", "the sentence says to go back to the list"
    dialog.back_button.invoke()
    assert dialog.view == "choose"
    assert dialog.selected.name == name, "the backup just restored is still the one chosen, not the safety backup"
    dialog.contents_tree.selection_set("db:0")
    assert dialog.dump_button.instate(["!disabled"])
    dialog.dump_button.invoke()
    target = dialogs.questions[-1].split("Se creará ", 1)[1].split(" en el servidor ", 1)[0]
    assert pump(tk_root, until=lambda: dialog.view == "result", timeout=120)
    assert dialog.restored_database is not None, dialog.result_text
    assert count(mariadb_server, target) == SALES
    assert leftovers() == []
