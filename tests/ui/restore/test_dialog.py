"""The "Restaurar..." dialog in a real Tk window (Xvfb) with the real engine, real files and a real SQLite
database: open it from the summary, choose a backup, see its contents, restore, read the report."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.ui.conftest import pump
from wizard.core import history
from wizard.core.backup import run_backup
from wizard.core.config import load

# mariadb_server, db_keyring: a real MariaDB for the archives that hold server-database dumps
pytest_plugins = ["tests.dbservers"]

IN_USE = "Cierra el punto de venta y vuelve a intentar."


def back_up(config_path: Path) -> Path:
    result = run_backup(load(config_path))
    assert result.succeeded, result.message
    return result.archive


def sales(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT count(*) FROM sales").fetchone()[0]
    finally:
        conn.close()


def sell(db: Path, n: int) -> None:
    conn = sqlite3.connect(db)
    conn.executemany("INSERT INTO sales (ts, total, note) VALUES ('hoy', 1.0, ?)", [(f"hoy {i}",) for i in range(n)])
    conn.commit()
    conn.close()


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.name.startswith("punto_de_venta.db")}


def open_dialog(tk_root, window):
    window.summary.restore_button.invoke()
    dialog = window.summary.restore_dialog
    assert dialog.winfo_exists()
    pump(tk_root, until=lambda: dialog.contents is not None, timeout=30)
    return dialog


def tree_texts(tree, item="") -> list[str]:
    found = []
    for child in tree.get_children(item):
        found.append(" | ".join([tree.item(child, "text"), *map(str, tree.item(child, "values"))]))
        found += tree_texts(tree, child)
    return found


def test_three_clicks_from_the_summary_bring_the_last_backup_back_and_keep_today_in_a_safety_backup(
        tk_root, open_window, saved_config, pos_data, usb, dialogs):
    archive = back_up(saved_config)
    yesterday = files_of(pos_data)
    sell(pos_data / "punto_de_venta.db", 40)
    (pos_data / "factura F1001.xml").write_text("<cfdi:Comprobante Folio='1001' Total='99'/>", encoding="utf-8")
    window = open_window(saved_config)

    window.summary.restore_button.invoke()  # 1
    dialog = window.summary.restore_dialog
    assert pump(tk_root, until=lambda: dialog.contents is not None, timeout=30)
    assert dialog.selected.path == archive, "the newest backup is chosen already"
    assert dialog.lost.text.startswith("Se perderán los cambios hechos hoy después de las ")
    dialog.original_button.invoke()  # 2, and 3 is "Restaurar" in the question:
    assert dialogs.questions[-1].startswith("¿Restaurar el respaldo de hoy a las ")
    assert dialog.lost.text in dialogs.questions[-1]
    assert f"Antes se guardará un respaldo de seguridad de los datos actuales en {usb}." in dialogs.questions[-1]
    assert dialog.view == "progress"
    assert pump(tk_root, until=lambda: dialog.view == "result", timeout=60)

    assert dialog.report is not None, dialog.result_text
    assert files_of(pos_data) == yesterday
    assert sales(pos_data / "punto_de_venta.db") == 2000
    text = dialog.result_text
    assert text.startswith("Se restauraron 3 archivos del respaldo de hoy a las ")
    assert f"en su lugar original ({pos_data})." in text
    assert f"respaldo de seguridad {dialog.report.safety_backup}." in text
    assert history.read()[-1].trigger == "before-restore"
    first_row = window.summary.table.item(window.summary.table.get_children()[0], "values")
    assert first_row[1] == "Antes de restaurar"

    dialog.done_button.invoke()
    assert not dialog.winfo_exists()


def test_choose_an_older_backup_see_its_contents_and_rows_and_restore_it_into_another_folder(
        tk_root, open_window, saved_config, pos_data, usb, dialogs, tmp_path):
    older = back_up(saved_config)
    older_files = files_of(pos_data)
    sell(pos_data / "punto_de_venta.db", 10)
    (pos_data / "imagenes" / "coca_600.jpg").write_bytes(os.urandom(300))
    newer = back_up(saved_config)
    window = open_window(saved_config)
    dialog = open_dialog(tk_root, window)
    rows = [dialog.backups.item(i, "values") for i in dialog.backups.get_children()]
    assert [r[3] for r in rows] == ["Verificado", "Verificado"]
    assert [r[1] for r in rows] == ["Carpeta de respaldos", "Carpeta de respaldos"]
    assert dialog.selected.path == newer

    dialog.backups.selection_set("1")  # a click on the older one
    assert pump(tk_root, until=lambda: dialog.contents is not None and dialog.selected.path == older
                and not dialog.contents_tree.exists("rows:datos/punto_de_venta.db"), timeout=30)
    lines = tree_texts(dialog.contents_tree)
    assert lines[0].startswith("datos | ") and lines[0].endswith(f" | 3 archivos · {pos_data}")
    assert dialog.contents_tree.item(dialog.contents_tree.get_children()[0], "open")
    assert any(line.startswith("punto_de_venta.db | ") and "base de datos: 1 tabla, 2,000 registros" in line
               for line in lines)
    assert "sales |  | 2,000 registros" in lines
    assert any(line.startswith("coca_600.jpg | ") for line in lines)

    dialogs.directory = str(tmp_path / "restaurado")
    dialog.folder_button.invoke()
    assert pump(tk_root, until=lambda: dialog.view == "result", timeout=60)

    assert dialog.report is not None, dialog.result_text
    assert files_of(tmp_path / "restaurado" / "datos") == older_files
    assert sales(tmp_path / "restaurado" / "datos" / "punto_de_venta.db") == 2000
    assert dialog.result_text.startswith("Se restauraron 3 archivos del respaldo de hoy a las ")
    assert f"en {tmp_path / 'restaurado'}." in dialog.result_text
    assert "sin errores (1 tabla, 2,000 registros)" in dialog.result_text
    opened = []
    window.open_path = opened.append
    dialog.open_button.invoke()
    assert opened == [str(tmp_path / "restaurado")]
    assert sales(pos_data / "punto_de_venta.db") == 2010, "the data in its place was not touched"


def test_with_the_pos_open_the_dialog_says_to_close_it_and_nothing_changes(
        tk_root, open_window, saved_config, pos_data, usb, dialogs):
    back_up(saved_config)
    (pos_data / "factura F1001.xml").write_text("hoy", encoding="utf-8")
    code = ("import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
            "c.execute('SELECT count(*) FROM sales').fetchone(); print('listo', flush=True); sys.stdin.read()")
    holder = subprocess.Popen([sys.executable, "-c", code, str(pos_data / "punto_de_venta.db")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "listo"
        window = open_window(saved_config)
        dialog = open_dialog(tk_root, window)
        dialog.original_button.invoke()
        assert pump(tk_root, until=lambda: dialog.view == "result", timeout=60)
    finally:
        holder.communicate("", timeout=30)

    assert dialog.result_text.endswith(IN_USE)
    assert (pos_data / "factura F1001.xml").read_text(encoding="utf-8") == "hoy"
    assert len(list(usb.iterdir())) == 1, "no safety backup"
    assert dialog.back_button.winfo_manager() == "pack"
    dialog.back_button.invoke()
    assert dialog.view == "choose"


def test_the_dialog_closes_with_the_summary(tk_root, open_window, saved_config, pos_data, usb):
    window = open_window(saved_config)
    window.summary.restore_button.invoke()
    dialog = window.summary.restore_dialog
    assert dialog.lost.text == "Elige un respaldo de la lista."
    assert "No hay respaldos en" in str(dialog.list_status.cget("text"))
    assert dialog.original_button.instate(["disabled"])
    window.edit_config()
    pump(tk_root, timeout=0.1)
    assert not dialog.winfo_exists()


def test_with_dropbox_chosen_but_not_signed_in_the_list_says_so_and_local_backups_still_show(
        tk_root, open_window, saved_config, pos_data, usb, tmp_path, monkeypatch):
    import keyring

    from tests.fakes.keyring_backend import FileKeyring
    from wizard.core import config as config_mod

    monkeypatch.setenv("FAKE_KEYRING_FILE", str(tmp_path / "keyring.json"))
    previous = keyring.get_keyring()
    keyring.set_keyring(FileKeyring())
    try:
        archive = back_up(saved_config)
        config = load(saved_config)
        config.cloud.provider = "dropbox"
        config_mod.save(config, saved_config)
        window = open_window(saved_config)
        dialog = open_dialog(tk_root, window)
        assert pump(tk_root, until=lambda: "No se pudieron" in str(dialog.list_status.cget("text")), timeout=30)
    finally:
        keyring.set_keyring(previous)
    assert str(dialog.list_status.cget("text")) == (
        "No se pudieron ver los respaldos de Dropbox: Inicia sesión con Dropbox para ver los respaldos que hay "
        "en la nube.")
    assert [c.path for c in dialog.choices] == [archive]


# -- server databases in the archive (real MariaDB, started by tests/dbservers.py) ---------------------------

def shop_on_mariadb(server, name: str, sales: int) -> None:
    server.admin(f"DROP DATABASE IF EXISTS `{name}`; CREATE DATABASE `{name}`")
    server.admin("CREATE TABLE ventas (id INT AUTO_INCREMENT PRIMARY KEY, total DECIMAL(10,2)) ENGINE=InnoDB;"
                 f"INSERT INTO ventas (total) SELECT seq * 1.5 FROM seq_1_to_{sales};", database=name)


def with_database(config_path: Path, db, *, folders: bool = True) -> Path:
    from wizard.core import config as config_mod

    config = load(config_path)
    config.source.databases = [db]
    if not folders:
        config.source.paths = []
    config_mod.save(config, config_path)
    return config_path


def test_a_server_database_is_listed_in_the_contents_and_the_original_restore_says_it_was_not_put_back(
        tk_root, open_window, saved_config, pos_data, usb, dialogs, mariadb_server, db_keyring):
    from wizard.core import servers

    shop_on_mariadb(mariadb_server, "tienda_rd", 300)
    db = mariadb_server.source("tienda_rd")
    servers.set_password(db, mariadb_server.password)
    archive = back_up(with_database(saved_config, db))
    mariadb_server.admin("INSERT INTO ventas (total) VALUES (9.99)", database="tienda_rd")
    window = open_window(saved_config)
    dialog = open_dialog(tk_root, window)

    lines = tree_texts(dialog.contents_tree)
    assert "Bases de datos del servidor |  | 1 copia" in lines
    [dump_line] = [line for line in lines if line.startswith("tienda_rd | ")]
    assert dump_line.endswith(f" | MySQL/MariaDB · 127.0.0.1:{mariadb_server.port} · tienda_rd")
    assert not any(line.startswith("bases_de_datos") for line in lines), "the dump is not shown as a plain folder"
    assert dialog.dump_row.winfo_manager() == "grid"
    assert dialog.dump_button.instate(["!disabled"]), "the only database is the one restored"

    dialog.original_button.invoke()
    assert dialogs.questions[-1].endswith(
        "Las bases de datos del servidor (tienda_rd) no se restauran en su lugar original; después puedes "
        "restaurarlas como bases de datos nuevas.")
    assert pump(tk_root, until=lambda: dialog.view == "result", timeout=60)

    assert dialog.report is not None, dialog.result_text
    text = dialog.result_text
    assert text.startswith("Se restauraron 3 archivos del respaldo de hoy a las ")
    assert (f"No se restauraron las bases de datos del servidor: tienda_rd (MySQL/MariaDB · 127.0.0.1:"
            f"{mariadb_server.port} · tienda_rd). Esas no vuelven a su lugar original.") in text
    assert text.splitlines()[-2] == (
        "Para recuperarlas sin tocar las que usa el punto de venta, vuelve a la lista, elígelas en «Contenido» y "
        "pulsa «Restaurar como base de datos nueva...», o usa en una terminal:")
    assert text.splitlines()[-1] == f'respaldos db restore "{archive}" tienda_rd --config "{saved_config}"'
    assert mariadb_server.scalar("SELECT COUNT(*) FROM ventas", "tienda_rd") == "301", "the server was not touched"

    assert dialog.back_button.winfo_manager() == "pack", "the text sends the user back to the list"
    dialog.back_button.invoke()
    assert dialog.selected.path == archive, "the backup just restored, not the newer safety backup"
    assert pump(tk_root, until=lambda: dialog.contents is not None, timeout=30)
    assert dialog.dump_button.instate(["!disabled"])


def test_a_server_database_is_restored_from_the_dialog_into_a_new_database_on_a_worker(
        tk_root, open_window, saved_config, pos_data, usb, dialogs, mariadb_server, db_keyring):
    from wizard.core import servers

    shop_on_mariadb(mariadb_server, "tienda_nueva", 500)
    db = mariadb_server.source("tienda_nueva")
    servers.set_password(db, mariadb_server.password)
    back_up(with_database(saved_config, db, folders=False))
    mariadb_server.admin("DELETE FROM ventas WHERE id > 100", database="tienda_nueva")  # today's mistake
    window = open_window(saved_config)
    dialog = open_dialog(tk_root, window)

    dialog.original_button.invoke()  # only a server database in it: nothing goes back in place
    assert dialogs.infos[-1].startswith("Este respaldo solo tiene copias de bases de datos del servidor "
                                        "(tienda_nueva), y esas no vuelven a su lugar original.")
    assert dialog.view == "choose" and dialogs.questions == []

    dialog.contents_tree.selection_set("dump:bases_de_datos/tienda_nueva.sql")
    dialog.dump_button.invoke()
    question = dialogs.questions[-1]
    assert question.startswith("¿Restaurar la base de datos tienda_nueva del respaldo de hoy a las ")
    target = question.split("Se creará ", 1)[1].split(" en el servidor ", 1)[0]
    assert target.startswith("tienda_nueva_restaurada_")
    assert dialog.view == "progress" and dialog.running, "the load runs on a worker; the window stays usable"
    assert pump(tk_root, until=lambda: dialog.view == "result", timeout=120)

    assert dialog.restored_database is not None, dialog.result_text
    assert dialog.result_text == (f"Se restauró la base de datos tienda_nueva como {target} en el servidor "
                                  f"127.0.0.1:{mariadb_server.port}. La original no se tocó.")
    assert mariadb_server.scalar("SELECT COUNT(*) FROM ventas", target) == "500"
    assert mariadb_server.scalar("SELECT COUNT(*) FROM ventas", "tienda_nueva") == "100", "original untouched"
    assert dialog.back_button.winfo_manager() == "pack"
    dialog.back_button.invoke()
    assert dialog.view == "choose"


def test_while_a_restore_runs_the_window_does_not_close_and_no_backup_starts(
        tk_root, open_window, saved_config, pos_data, usb, dialogs, monkeypatch):
    import threading

    from wizard.core import restore

    back_up(saved_config)
    release = threading.Event()
    real = restore.restore_to_original

    def held(*args, **kwargs):  # the real restore, held at its start until the test has looked
        release.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(restore, "restore_to_original", held)
    window = open_window(saved_config)
    dialog = open_dialog(tk_root, window)
    dialog.original_button.invoke()
    try:
        assert window.restore_running
        assert window.on_close() is False
        assert dialogs.warnings[-1] == ("Hay una restauración en curso. Espera a que termine y después cierra "
                                        "Respaldos.")
        assert window.start_backup("scheduled") is False and not window.backup_running
    finally:
        release.set()
    assert pump(tk_root, until=lambda: dialog.view == "result", timeout=60)
    assert dialog.report is not None, dialog.result_text
    assert not window.restore_running
    assert window.start_backup("manual") is True
    assert pump(tk_root, until=lambda: not window.backup_running, timeout=60)
