"""Step 1's "Agregar base de datos": a real Tk window talking to real MariaDB and Firebird servers."""

from __future__ import annotations

import tomllib

from tests.ui.conftest import pump
from wizard.core import dbsources

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
    assert isinstance(result, dbsources.ServerInfo)
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
    assert dbsources.get_password(window.config.source.databases[0]) == mariadb_server.password


def test_a_wrong_password_and_an_incomplete_entry_are_shown_in_the_dialog(tk_root, open_window, mariadb_server,
                                                                          db_keyring):
    mariadb_server.admin("CREATE DATABASE IF NOT EXISTS caja_ui2")
    window = open_window()
    step, dialog = open_dialog(tk_root, window)
    fill(dialog, port=str(mariadb_server.port), database="caja_ui2", user="pos", password="equivocada")
    result, text = run_connection_test(tk_root, dialog)
    assert isinstance(result, dbsources.WrongPassword)
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
    assert isinstance(result, dbsources.ServerInfo), text
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
