"""Step 1's "Buscar en este equipo": a real Tk window searching real files (and a real MariaDB), the list
it shows, and what "Agregar" puts in step 1."""

from __future__ import annotations

import shutil

from tests.core.detect.conftest import ACCESS_ACE, make_firebird, make_sqlite
from tests.ui.conftest import pump
from tests.ui.test_source_databases import fill, open_dialog
from wizard.core import servers
from wizard.core.config import DatabaseSource

# mariadb_server, db_keyring
pytest_plugins = ["tests.dbservers"]


def open_search(tk_root, window, **options):
    step = window.wizard.steps[0]
    dialog = step.open_detect_dialog(**options)
    assert pump(tk_root, until=lambda: dialog.result is not None, timeout=60)
    return step, dialog


def rows(dialog) -> dict[str, tuple]:
    return {dialog.rows[iid].path or dialog.rows[iid].database: dialog.tree.item(iid, "values")
            for iid in dialog.tree.get_children()}


def iid_of(dialog, key):
    return next(i for i, f in dialog.rows.items() if key in (f.path, f.database))


def entry_from_database_dialog(tk_root, window, **fields) -> DatabaseSource:
    """The entry "Agregar base de datos..." makes from these fields (the dialog is closed unused)."""
    _step, dialog = open_dialog(tk_root, window)
    fill(dialog, **fields)
    entry = DatabaseSource(**dialog.entry())
    dialog.close()
    return entry


def test_the_search_lists_what_it_found_and_adds_the_checked_ones_to_step_1(tk_root, open_window, tmp_path,
                                                                            db_keyring):
    root = tmp_path / "disco"
    sqlite_db = make_sqlite(root / "PuntoVenta" / "ventas.dat")
    access = root / "Oficina" / "clientes.accdb"
    access.parent.mkdir(parents=True)
    access.write_bytes(ACCESS_ACE)
    firebird = root / "AbarrotesPDV" / "PDVDATA.FDB"
    firebird.parent.mkdir(parents=True)
    shutil.copyfile(make_firebird(tmp_path / "plantilla.fdb"), firebird)
    (root / "notas.db").write_text("texto\n" * 200, encoding="utf-8")
    window = open_window()
    step, dialog = open_search(tk_root, window, search_roots=[str(root)], look_for_servers=False)

    shown = rows(dialog)
    assert set(shown) == {str(sqlite_db), str(access), str(firebird)}
    check, what, where, size, changed = shown[str(firebird)]
    assert (check, what, where) == ("\u2611", "eleventa: base de datos Firebird", str(firebird))  # known: checked
    assert size.endswith("MB") and changed == "modificada hace menos de un minuto"
    assert shown[str(sqlite_db)][:2] == ("\u2610", "base de datos SQLite")
    assert shown[str(access)][:2] == ("\u2610", "archivo de Microsoft Access")
    assert "copie estos archivos con el punto de venta cerrado" in str(dialog.warning.cget("text"))
    assert dialog.warning.winfo_manager() == "grid"
    assert "Cierre el programa antes de restaurar" in str(dialog.notes.cget("text"))
    assert str(dialog.status.cget("text")).startswith("Se encontraron 3 cosas.")
    assert dialog.server_box.winfo_manager() == ""  # no server: no login fields
    assert dialog.firebird_box.winfo_manager() == "grid" and dialog.firebird_user_var.get() == "SYSDBA"
    dialog.firebird_password_var.set("masterkey-de-la-tienda")

    dialog.toggle(iid_of(dialog, str(sqlite_db)))
    dialog.toggle(iid_of(dialog, str(access)))
    dialog.toggle(iid_of(dialog, str(access)))  # and unchecked again
    assert dialog.tree.set(iid_of(dialog, str(sqlite_db)), "add") == "\u2611"
    dialog.add_button.invoke()
    pump(tk_root, timeout=0.05)
    assert not dialog.winfo_exists() and step.detect_dialog is None
    assert step.paths == [str(sqlite_db)]
    expected = entry_from_database_dialog(tk_root, window, engine="Firebird", host="localhost",
                                          database=str(firebird))
    assert step.databases == [expected]
    assert servers.get_password(expected) == "masterkey-de-la-tienda" and step.passwords_stored == [expected]
    assert step.tree.item("db0", "text").startswith("PDVDATA: ")


def test_cancel_stops_the_search_and_says_so(tk_root, open_window, tmp_path, monkeypatch):
    from wizard.core import detect

    for i in range(3):
        make_sqlite(tmp_path / f"carpeta{i}" / "sub" / "caja.db")
    real_detect = detect.detect

    def detect_after_cancel(*args, cancel, **kwargs):  # the real search, started once Cancelar was pressed
        assert cancel.wait(30)
        return real_detect(*args, cancel=cancel, **kwargs)

    monkeypatch.setattr(detect, "detect", detect_after_cancel)
    window = open_window()
    step = window.wizard.steps[0]
    dialog = step.open_detect_dialog(search_roots=[str(tmp_path)], look_for_servers=False)
    dialog.cancel_button.invoke()
    assert pump(tk_root, until=lambda: dialog.result is not None, timeout=60)
    assert dialog.result.stopped == "cancel" and dialog.result.not_covered == [str(tmp_path)]
    assert dialog.rows == {}
    assert "Búsqueda cancelada. Faltó revisar 1 carpeta: " in str(dialog.status.cget("text"))
    dialog.close()


def test_a_mysql_servers_databases_are_listed_with_the_typed_login_and_added_as_the_database_dialog_does(
        tk_root, open_window, tmp_path, mariadb_server, db_keyring):
    mariadb_server.admin("CREATE DATABASE IF NOT EXISTS sicar; "
                         "CREATE TABLE IF NOT EXISTS sicar.venta (id INT PRIMARY KEY); "
                         "CREATE DATABASE IF NOT EXISTS otra_tienda_ui;")
    window = open_window()
    step, dialog = open_search(tk_root, window, search_roots=[str(tmp_path)],
                               extra_ports={"mysql": [mariadb_server.port]})
    assert dialog.server_box.winfo_manager() == "grid"
    server_row = next(i for i, f in dialog.rows.items() if f.kind == "mysql-server" and f.port == mariadb_server.port)
    assert dialog.tree.set(server_row, "add") == ""  # a server is not added itself: its databases are
    dialog.toggle(server_row)  # clicking it picks it for the login fields
    assert dialog.server is dialog.rows[server_row]
    assert str(dialog.server_box.cget("text")) == f"Servidor MySQL/MariaDB en localhost:{mariadb_server.port}"
    assert dialog.user_var.get() == "root"  # the usual user, until the profile names another
    dialog.user_var.set("pos")
    dialog.password_var.set("equivocada")
    dialog.list_button.invoke()
    assert pump(tk_root, until=lambda: dialog.list_call is None, timeout=60)
    assert str(dialog.server_status.cget("text")).startswith("El servidor MySQL/MariaDB rechazó el usuario pos")
    dialog.password_var.set(mariadb_server.password)
    dialog.list_button.invoke()
    assert pump(tk_root, until=lambda: dialog.list_call is None, timeout=60)
    shown = rows(dialog)
    assert shown["sicar"][:2] == ("\u2611", "SICAR: base de datos MySQL 'sicar'")
    assert shown["otra_tienda_ui"][0] == "\u2610"
    assert "mysql" not in shown
    dialog.add_button.invoke()
    pump(tk_root, timeout=0.05)
    expected = entry_from_database_dialog(tk_root, window, host="localhost", port=str(mariadb_server.port),
                                          database="sicar", user="pos")
    assert step.databases == [expected]
    assert servers.get_password(expected) == mariadb_server.password
    assert step.passwords_stored == [expected]


def test_step_1s_button_opens_the_search_once_over_this_systems_places(tk_root, open_window, tmp_path, monkeypatch):
    from wizard.core.detect import roots

    make_sqlite(tmp_path / "caja.db")
    monkeypatch.setattr(roots, "default_roots", lambda include_removable=False: [str(tmp_path)])
    window = open_window()
    step = window.wizard.steps[0]
    assert str(step.detect_button.cget("text")) == "Buscar en este equipo"
    step.detect_button.invoke()
    dialog = step.detect_dialog
    assert dialog is not None and dialog.title() == "Buscar en este equipo"
    step.detect_button.invoke()
    assert step.detect_dialog is dialog  # one at a time
    assert pump(tk_root, until=lambda: dialog.result is not None, timeout=60)
    assert dialog.result.roots == [str(tmp_path)]
    assert str(tmp_path / "caja.db") in rows(dialog)
    dialog.close()
    assert step.detect_dialog is None
