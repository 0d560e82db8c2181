"""Step 1's "Agregar base de datos": a real Tk window talking to real MariaDB and Firebird servers."""

from __future__ import annotations

import dataclasses
import tomllib

import pytest

from tests.ui.conftest import pump
from wizard.core import servers

# mariadb_server, firebird_server, db_keyring
pytest_plugins = ["tests.dbservers"]


def open_dialog(tk_root, window):
    step = window.wizard.steps[0]
    step.add_database_button.invoke()
    pump(tk_root, timeout=0.05)
    assert step.database_dialog is not None and step.database_dialog.winfo_exists()
    return step, step.database_dialog


def fill(dialog, *, engine="MySQL / MariaDB", host="127.0.0.1", port="", database="", user="", password=""):
    dialog.engine_var.set(engine)
    dialog._engine_changed()
    dialog.host_var.set(host)
    if port:
        dialog.port_var.set(port)
    dialog.database_var.set(database)
    if user:
        dialog.user_var.set(user)
    dialog.password_var.set(password)


def run_connection_test(tk_root, dialog):
    dialog.test_button.invoke()
    assert pump(tk_root, until=lambda: dialog.result is not None, timeout=60)
    return dialog.result, str(dialog.status.cget("text"))


def test_a_mysql_database_is_tested_added_and_saved_without_its_password(tk_root, open_window, usb, mariadb_server,
                                                                         db_keyring):
    mariadb_server.admin("CREATE DATABASE IF NOT EXISTS caja_ui")
    window = open_window()
    wizard = window.wizard
    step, dialog = open_dialog(tk_root, window)
    assert str(dialog.database_label.cget("text")) == "Base de datos:"
    assert (dialog.port_var.get(), dialog.user_var.get()) == ("3306", "root")
    fill(dialog, port=str(mariadb_server.port), database="caja_ui", user="pos", password=mariadb_server.password)
    result, text = run_connection_test(tk_root, dialog)
    assert isinstance(result, servers.ServerInfo)
    assert text.startswith("Conexión correcta con MySQL/MariaDB 10.") and f"127.0.0.1:{mariadb_server.port}" in text
    dialog.add_button.invoke()
    pump(tk_root, timeout=0.05)
    assert not dialog.winfo_exists()
    assert step.tree.item("db0", "text") == f"caja_ui: caja_ui (MySQL/MariaDB, 127.0.0.1:{mariadb_server.port})"
    # a database alone is something to back up: no folder needed
    assert step.paths_problem.text == ""
    assert not wizard.next_button.instate(["disabled"])

    wizard.next()
    wizard.steps[1].folder_var.set(str(usb))
    assert pump(tk_root, until=lambda: not wizard.step.busy, timeout=10)
    while window.summary is None:
        wizard.next()
        pump(tk_root, timeout=0.05)
    text = window.config_path.read_text(encoding="utf-8")
    assert tomllib.loads(text)["source"] == {"paths": [], "databases": [
        {"engine": "mysql", "host": "127.0.0.1", "port": mariadb_server.port, "database": "caja_ui", "user": "pos"}]}
    assert mariadb_server.password not in text
    assert servers.get_password(window.config.source.databases[0]) == mariadb_server.password


def test_a_wrong_password_and_an_incomplete_entry_are_shown_in_the_dialog(tk_root, open_window, mariadb_server,
                                                                          db_keyring):
    mariadb_server.admin("CREATE DATABASE IF NOT EXISTS caja_ui2")
    window = open_window()
    step, dialog = open_dialog(tk_root, window)
    fill(dialog, port=str(mariadb_server.port), database="caja_ui2", user="pos", password="equivocada")
    result, text = run_connection_test(tk_root, dialog)
    assert isinstance(result, servers.WrongPassword)
    assert text.startswith("El servidor MySQL/MariaDB rechazó el usuario pos o su contraseña")
    fill(dialog, port="puerto", database="", user="pos")
    dialog.add_button.invoke()
    pump(tk_root, timeout=0.05)
    assert dialog.winfo_exists()
    assert str(dialog.status.cget("text")).splitlines() == [
        '"puerto" no es un puerto válido (un número de 1 a 65535)',
        "Falta el nombre de la base de datos",
    ]
    assert step.databases == []
    dialog.close()


def test_a_firebird_database_is_tested_with_its_file_on_the_server_and_can_be_removed(
        tk_root, open_window, firebird_server, db_keyring):
    path = firebird_server.create_database("CAJA_UI.FDB")
    window = open_window()
    step, dialog = open_dialog(tk_root, window)
    fill(dialog, engine="Firebird")
    assert str(dialog.database_label.cget("text")) == "Archivo en el servidor:"
    assert (dialog.port_var.get(), dialog.user_var.get()) == ("3050", "SYSDBA")
    fill(dialog, engine="Firebird", port=str(firebird_server.port), database=str(path),
         password=firebird_server.password)
    result, text = run_connection_test(tk_root, dialog)
    assert isinstance(result, servers.ServerInfo), text
    assert text.startswith("Conexión correcta con Firebird 3.")
    dialog.add_button.invoke()
    pump(tk_root, timeout=0.05)
    assert [db.path for db in step.databases] == [str(path)]
    assert step.tree.item("db0", "values") == ("Base de datos",)
    step.tree.selection_set("db0")
    pump(tk_root, timeout=0.05)
    step.remove_button.invoke()
    assert step.databases == [] and not step.tree.exists("db0")
    assert step.paths_problem.text.endswith("La lista está vacía: indica al menos una carpeta o archivo")


def saved_with_database(saved_config, db, password):
    from wizard.core import config as config_mod

    config = config_mod.load(saved_config)
    config.source.databases = [db]
    config_mod.save(config, saved_config)
    servers.set_password(db, password)
    return saved_config


def test_editing_a_database_fixes_its_port_tests_with_the_stored_password_and_saves_without_it(
        tk_root, open_window, saved_config, mariadb_server, db_keyring):
    from tests.dbservers import free_port

    mariadb_server.admin("CREATE DATABASE IF NOT EXISTS caja_edit")
    wrong = dataclasses.replace(mariadb_server.source("caja_edit"), port=free_port())
    saved_with_database(saved_config, wrong, mariadb_server.password)
    window = open_window(saved_config)
    window.edit_config()
    step = window.wizard.steps[0]
    assert step.edit_database_button.instate(["disabled"]), "nothing chosen yet"
    step.tree.selection_set("0")  # a folder: only database entries are edited here
    pump(tk_root, timeout=0.05)
    assert step.edit_database_button.instate(["disabled"])
    step.tree.selection_set("db0")
    pump(tk_root, timeout=0.05)
    step.edit_database_button.invoke()
    pump(tk_root, timeout=0.05)
    dialog = step.database_dialog
    assert dialog.title() == "Editar base de datos" and str(dialog.add_button.cget("text")) == "Guardar"
    assert (dialog.engine_var.get(), dialog.host_var.get(), dialog.port_var.get(), dialog.database_var.get(),
            dialog.user_var.get(), dialog.password_var.get()) == (
        "MySQL / MariaDB", "127.0.0.1", str(wrong.port), "caja_edit", "pos", "")
    assert str(dialog.password_hint.cget("text")) == "Déjala vacía para conservar la contraseña guardada."

    result, text = run_connection_test(tk_root, dialog)
    assert isinstance(result, servers.ServerNotRunning), text
    dialog.port_var.set(str(mariadb_server.port))
    result, text = run_connection_test(tk_root, dialog)  # the password field is empty: the stored one is used
    assert isinstance(result, servers.ServerInfo), text
    dialog.add_button.invoke()
    pump(tk_root, timeout=0.05)
    assert not dialog.winfo_exists()
    assert step.tree.item("db0", "text") == f"caja_edit: caja_edit (MySQL/MariaDB, 127.0.0.1:{mariadb_server.port})"
    assert len(step.databases) == 1

    wizard = window.wizard
    while window.summary is None:
        wizard.next()
        pump(tk_root, until=lambda: not wizard.step.busy, timeout=10)
    text = window.config_path.read_text(encoding="utf-8")
    assert tomllib.loads(text)["source"]["databases"] == [
        {"engine": "mysql", "host": "127.0.0.1", "port": mariadb_server.port, "database": "caja_edit", "user": "pos"}]
    assert mariadb_server.password not in text
    assert servers.get_password(window.config.source.databases[0]) == mariadb_server.password
    assert servers.test_connection(window.config.source.databases[0]).version.startswith("10.")


def test_double_click_edits_keeping_name_and_client_and_a_new_password_goes_to_the_keyring(
        tk_root, open_window, saved_config, db_keyring):
    from wizard.core.config import DatabaseSource

    db = DatabaseSource(engine="mysql", name="sicar", host="caja1", database="sicar", client="/opt/mysql/bin")
    saved_with_database(saved_config, db, "vieja")
    window = open_window(saved_config)
    window.edit_config()
    wizard = window.wizard
    step = wizard.steps[0]
    pump(tk_root, until=lambda: step.tree.bbox("db0"), timeout=5)
    x, y, _w, h = step.tree.bbox("db0")
    for _click in range(2):  # a real double click: two presses at the same place in quick succession
        step.tree.event_generate("<ButtonPress-1>", x=x + 20, y=y + h // 2, time=1000 + _click * 50)
        step.tree.event_generate("<ButtonRelease-1>", x=x + 20, y=y + h // 2, time=1010 + _click * 50)
    pump(tk_root, timeout=0.05)
    dialog = step.database_dialog
    assert dialog is not None and dialog.title() == "Editar base de datos"
    assert (dialog.port_var.get(), dialog.user_var.get()) == ("3306", "root")

    dialog.add_button.invoke()  # nothing changed: the entry stays exactly as it was
    pump(tk_root, timeout=0.05)
    assert step.databases == [db] and not wizard.has_changes()
    assert servers.get_password(db) == "vieja"

    dialog = step.edit_selected_database()
    dialog.host_var.set("servidor")
    dialog.password_var.set("nueva")
    dialog.add_button.invoke()
    pump(tk_root, timeout=0.05)
    assert step.databases == [DatabaseSource(engine="mysql", name="sicar", host="servidor", database="sicar",
                                             client="/opt/mysql/bin")]
    assert servers.get_password(step.databases[0]) == "nueva"
    assert "nueva" not in str(window.config_path.read_text(encoding="utf-8"))


def test_renaming_the_database_carries_the_stored_password_to_its_new_name_and_duplicates_are_refused(
        tk_root, open_window, saved_config, db_keyring):
    from wizard.core import config as config_mod
    from wizard.core.config import DatabaseSource

    first = DatabaseSource(engine="mysql", host="caja1", database="tienda")
    second = DatabaseSource(engine="firebird", host="caja1", path="C:\\POS\\CAJA.FDB")
    config = config_mod.load(saved_config)
    config.source.databases = [first, second]
    config_mod.save(config, saved_config)
    servers.set_password(first, "clave de tienda")
    window = open_window(saved_config)
    window.edit_config()
    step = window.wizard.steps[0]
    step.tree.selection_set("db0")
    dialog = step.edit_selected_database()

    dialog.database_var.set("CAJA")  # the name of the other entry
    dialog.add_button.invoke()
    pump(tk_root, timeout=0.05)
    assert dialog.winfo_exists()
    assert str(dialog.status.cget("text")) == (
        "Ya hay otra base de datos llamada «CAJA» en la lista; quítala o edítala en vez de agregarla otra vez")

    dialog.database_var.set("tienda_2027")
    dialog.add_button.invoke()
    pump(tk_root, timeout=0.05)
    assert not dialog.winfo_exists()
    assert [d.label for d in step.databases] == ["tienda_2027", "CAJA"]
    assert servers.get_password(step.databases[0]) == "clave de tienda"
    assert step.tree.item("db1", "text").startswith("CAJA: ")


def test_step_one_counts_server_databases_beside_the_folders_and_enter_adds_the_entry(
        tk_root, open_window, pos_data, tmp_path, db_keyring):
    window = open_window()
    step = window.wizard.steps[0]
    step, dialog = open_dialog(tk_root, window)
    fill(dialog, host="caja1", database="sicar", password="x")
    dialog.focus_force()
    dialog.engine_box.focus_set()
    pump(tk_root, timeout=0.05)
    dialog.engine_box.event_generate("<Return>")  # Enter = Agregar, as Enter = Siguiente in the wizard
    pump(tk_root, timeout=0.05)
    assert not dialog.winfo_exists() and [d.label for d in step.databases] == ["sicar"]
    assert step.totals_text == "1 base de datos en un servidor", "a database alone says what will be backed up"

    images = tmp_path / "imagenes"
    images.mkdir()
    (images / "coca.jpg").write_bytes(b"x" * 100)
    step.add_paths([str(images)])
    assert pump(tk_root, until=lambda: step.size_info is not None and "Total" in step.totals_text, timeout=10)
    assert step.totals_text == ("Total: 100 B en 1 archivo  ·  0 bases de datos encontradas  ·  "
                                "1 base de datos en un servidor")
    assert not step.db_notice.winfo_manager(), "no 'no database found' warning: the database is on the server"


def test_a_closed_dialog_is_freed_on_the_tk_thread_not_by_a_workers_garbage_collection(
        tk_root, open_window, monkeypatch):
    import gc
    import sys
    import threading

    from wizard.core.cloud import DropboxProvider
    from wizard.core.config import CloudConfig
    from wizard.ui.dialogs import CodeDialog

    freed_elsewhere = []
    monkeypatch.setattr(sys, "unraisablehook", lambda info: freed_elsewhere.append(repr(info.exc_value)))
    gc.collect()
    window = open_window()
    for _round in range(2):
        _step, dialog = open_dialog(tk_root, window)
        fill(dialog, host="caja1", database="sicar", password="secreta")
        dialog.close()
        code = CodeDialog(tk_root, "https://example.invalid/", "Dropbox",
                          *DropboxProvider(CloudConfig(provider="dropbox")).paste_hint())
        code.cancel()
    del dialog, code
    pump(tk_root, timeout=0.2)
    # A backup or connection-test thread allocating a lot makes the collector run there: nothing of the
    # dialogs (their Tk variables) may be left for it to free.
    worker = threading.Thread(target=gc.collect)
    worker.start()
    worker.join()
    assert freed_elsewhere == []


def keyring_names(db_keyring):
    import json

    stored = json.loads(db_keyring.read_text(encoding="utf-8")) if db_keyring.exists() else {}
    return sorted(name.removeprefix("Respaldos/") for name in stored)


def saved_with_databases(saved_config, *passwords):
    """The saved config with these server databases, their passwords in the keyring: (entry, password)."""
    from wizard.core import config as config_mod

    config = config_mod.load(saved_config)
    config.source.databases = [db for db, _password in passwords]
    config_mod.save(config, saved_config)
    for db, password in passwords:
        servers.set_password(db, password)
    return saved_config


def save_the_wizard(tk_root, window):
    wizard = window.wizard
    for _step in range(len(wizard.steps) + 1):
        if window.summary is not None:
            return
        assert pump(tk_root, until=lambda: not wizard.step.busy, timeout=10)
        wizard.next()
        pump(tk_root, timeout=0.05)
    assert window.summary is not None, "the wizard did not save"


def tienda_and_caja():
    from wizard.core.config import DatabaseSource

    return (DatabaseSource(engine="mysql", host="caja1", database="tienda"),
            DatabaseSource(engine="firebird", host="caja1", path="C:\\POS\\CAJA.FDB"))


def test_a_removed_database_loses_its_stored_password_when_the_wizard_saves_not_when_it_is_removed(
        tk_root, open_window, saved_config, db_keyring):
    tienda, caja = tienda_and_caja()
    saved_with_databases(saved_config, (tienda, "clave de tienda"), (caja, "masterkey"))
    window = open_window(saved_config)
    window.edit_config()
    step = window.wizard.steps[0]
    step.tree.selection_set("db0")
    pump(tk_root, timeout=0.05)
    step.remove_button.invoke()
    assert [d.label for d in step.databases] == ["CAJA"]
    assert servers.get_password(tienda) == "clave de tienda", "kept until the change is saved"

    save_the_wizard(tk_root, window)
    assert [d.label for d in window.config.source.databases] == ["CAJA"]
    assert servers.get_password(tienda) is None
    assert keyring_names(db_keyring) == ["base de datos:CAJA"]
    assert servers.get_password(caja) == "masterkey"


def test_cancelling_the_wizard_after_removing_a_database_keeps_its_password(
        tk_root, open_window, saved_config, db_keyring, dialogs):
    tienda, caja = tienda_and_caja()
    saved_with_databases(saved_config, (tienda, "clave de tienda"), (caja, "masterkey"))
    window = open_window(saved_config)
    window.edit_config()
    step = window.wizard.steps[0]
    step.tree.selection_set("db0", "db1")
    step.remove_selected()
    dialogs.confirm_answer = True  # "Descartar"
    window.wizard.cancel_button.invoke()
    assert window.summary is not None
    assert [d.label for d in window.config.source.databases] == ["tienda", "CAJA"]
    assert keyring_names(db_keyring) == ["base de datos:CAJA", "base de datos:tienda"]
    assert servers.get_password(tienda) == "clave de tienda"


def test_renaming_a_database_and_saving_moves_its_password_and_forgets_the_old_name(
        tk_root, open_window, saved_config, db_keyring):
    tienda, caja = tienda_and_caja()
    saved_with_databases(saved_config, (tienda, "clave de tienda"), (caja, "masterkey"))
    window = open_window(saved_config)
    window.edit_config()
    step = window.wizard.steps[0]
    step.tree.selection_set("db0")
    dialog = step.edit_selected_database()
    dialog.database_var.set("tienda_2027")  # the password field left empty: the stored one goes along
    dialog.add_button.invoke()
    pump(tk_root, timeout=0.05)
    assert servers.get_password(tienda) == "clave de tienda", "kept until the change is saved"

    save_the_wizard(tk_root, window)
    renamed = window.config.source.databases[0]
    assert renamed.label == "tienda_2027"
    assert servers.get_password(renamed) == "clave de tienda"
    assert keyring_names(db_keyring) == ["base de datos:CAJA", "base de datos:tienda_2027"]


def test_a_rename_that_only_changes_case_keeps_the_old_password_as_case_blind_keyrings_share_it(
        tk_root, open_window, saved_config, db_keyring):
    tienda, caja = tienda_and_caja()
    saved_with_databases(saved_config, (tienda, "clave de tienda"), (caja, "masterkey"))
    window = open_window(saved_config)
    window.edit_config()
    step = window.wizard.steps[0]
    step.tree.selection_set("db0")
    dialog = step.edit_selected_database()
    dialog.database_var.set("TIENDA")
    dialog.add_button.invoke()
    pump(tk_root, timeout=0.05)

    save_the_wizard(tk_root, window)
    assert window.config.source.databases[0].label == "TIENDA"
    # On Windows "tienda" and "TIENDA" are one credential: deleting the old name would delete the new one.
    assert keyring_names(db_keyring) == ["base de datos:CAJA", "base de datos:TIENDA", "base de datos:tienda"]


@pytest.mark.parametrize("how", ["removed-then-saved", "cancelled", "window-closed"])
def test_a_database_added_in_the_wizard_but_not_saved_leaves_no_password_behind(
        tk_root, open_window, saved_config, db_keyring, dialogs, how):
    tienda, caja = tienda_and_caja()
    saved_with_databases(saved_config, (caja, "masterkey"))
    window = open_window(saved_config)
    window.edit_config()
    step, dialog = open_dialog(tk_root, window)
    fill(dialog, host="caja1", database="tienda", password="nueva")
    dialog.add_button.invoke()
    pump(tk_root, timeout=0.05)
    assert servers.get_password(tienda) == "nueva"

    dialogs.confirm_answer = True  # "Descartar", "Cerrar"
    if how == "cancelled":
        window.wizard.cancel()
        assert window.summary is not None
    elif how == "window-closed":
        assert window.on_close()
    else:
        step.tree.selection_set("db1")
        step.remove_selected()
        save_the_wizard(tk_root, window)
    assert keyring_names(db_keyring) == ["base de datos:CAJA"]


def test_cancelling_the_first_run_after_adding_a_database_leaves_no_password_behind(
        tk_root, open_window, db_keyring, dialogs):
    window = open_window()
    _step, dialog = open_dialog(tk_root, window)
    fill(dialog, host="caja1", database="sicar", password="secreta")
    dialog.add_button.invoke()
    pump(tk_root, timeout=0.05)
    assert keyring_names(db_keyring) == ["base de datos:sicar"]
    dialogs.confirm_answer = True  # "Salir"
    window.wizard.cancel()
    assert window.quits == [True]
    assert keyring_names(db_keyring) == []
