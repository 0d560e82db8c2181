"""What only Windows does, exercised on Windows for real: the Run key in HKCU, the pid check through
OpenProcess, replacing a file another handle holds open, SQLite's lock bytes at 1 GiB, Credential Manager
through keyring, and paths with a drive letter and backslashes.

Skipped elsewhere; the windows-latest job in .github/workflows/tests.yml runs them. The same code paths are
tested on Linux with fakes (test_autostart.py's FakeWinreg, test_early.py's file that refuses the lock
bytes); these tests check that the fakes told the truth.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import subprocess
import sys
import time
import uuid
import zipfile
from pathlib import Path

import pytest

from wizard.core import autostart, fsutil, secrets
from wizard.core.archive import CHUNK_SIZE, ZipWriter, verify_archive
from wizard.core.archive.early import EarlyCompression
from wizard.core.backup import EARLY_HEAD, SQLITE_PENDING_BYTE, run_backup
from wizard.core.config import Config, DestinationConfig, SourceConfig
from wizard.core.errors import UserError

pytestmark = pytest.mark.skipif(sys.platform != "win32", reason="Windows only (the windows-latest job runs it)")

MiB = 1 << 20


# -- start with the system: the Run key of the current user ----------------------------------------------

@pytest.fixture
def run_value(monkeypatch):
    """A Run-key value name of this test's own, removed afterwards: the runner's real settings stay as they were."""
    import winreg

    name = f"Respaldos-prueba-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(autostart, "RUN_VALUE", name)
    yield name
    try:
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, autostart.RUN_KEY, 0, winreg.KEY_SET_VALUE) as key:
            winreg.DeleteValue(key, name)
    except FileNotFoundError:
        pass


def run_key_value(hive, name: str) -> str | None:
    import winreg

    try:
        with winreg.OpenKey(hive, autostart.RUN_KEY, 0, winreg.KEY_READ) as key:
            value, kind = winreg.QueryValueEx(key, name)
    except FileNotFoundError:
        return None
    assert kind == winreg.REG_SZ
    return value


def test_start_with_the_system_writes_and_removes_the_current_user_s_run_key_value(run_value):
    import winreg

    autostart.enable([r"C:\Program Files\Respaldos\Respaldos.exe", "--minimized"])

    assert run_key_value(winreg.HKEY_CURRENT_USER, run_value) == (
        r'"C:\Program Files\Respaldos\Respaldos.exe" --minimized')
    assert run_key_value(winreg.HKEY_LOCAL_MACHINE, run_value) is None  # per user, no admin rights
    assert autostart.is_enabled()
    autostart.disable()
    assert run_key_value(winreg.HKEY_CURRENT_USER, run_value) is None
    assert not autostart.is_enabled()
    autostart.disable()  # harmless when already off


def test_from_source_the_login_command_is_pythonw_so_no_console_window_opens(monkeypatch):
    monkeypatch.delattr(sys, "frozen", raising=False)
    command = autostart.default_command()
    if Path(sys.executable).with_name("pythonw.exe").exists():
        assert Path(command[0]).name.lower() == "pythonw.exe"
    assert command[1:] == ["-m", "wizard", "--minimized"]


# -- is the process that left a folder still running? (OpenProcess, never os.kill) ----------------------

def test_pid_alive_sees_a_running_process_without_touching_it_and_not_one_that_ended():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        assert fsutil.pid_alive(proc.pid)
        assert proc.poll() is None, "checking must not end the process (os.kill on Windows would)"
    finally:
        proc.kill()
        proc.wait()
    assert not fsutil.pid_alive(proc.pid)
    assert not fsutil.pid_alive(0xFFFFFFF0)  # no such process: OpenProcess says invalid parameter
    assert fsutil.pid_alive(4)  # System: not ours to open fully, so "alive" (never removed by mistake)


def test_a_folder_left_by_an_ended_process_is_removed_and_a_running_one_s_is_kept(tmp_path):
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                           text=True, check=True)
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        gone = tmp_path / f"respaldos-prueba-{int(ended.stdout)}-a"
        kept = tmp_path / f"respaldos-prueba-{running.pid}-b"
        for folder in (gone, kept):
            folder.mkdir()
            (folder / "db0.sqlite").write_bytes(b"x" * 100)
        assert fsutil.remove_stale_dirs(tmp_path, "respaldos-prueba-") == [gone]
        assert kept.is_dir() and not gone.exists()
    finally:
        running.kill()
        running.wait()


# -- replacing a file another handle holds open ------------------------------------------------------------

def test_a_safe_write_over_a_file_another_handle_holds_open_fails_and_leaves_the_old_file_whole(tmp_path):
    """Most programs (Python's open() too) open files without FILE_SHARE_DELETE: Windows then refuses to
    replace them. The writer says so and the old file stays as it was, with no temporary file beside it."""
    target = tmp_path / "respaldos.toml"
    target.write_bytes(b"version viejo\n")

    with open(target, "rb") as other_program:
        with pytest.raises(OSError):
            fsutil.atomic_write_bytes(target, b"version nuevo\n")
        assert other_program.read() == b"version viejo\n"

    assert target.read_bytes() == b"version viejo\n"
    assert list(tmp_path.iterdir()) == [target], "a temporary file was left beside it"
    fsutil.atomic_write_bytes(target, b"version nuevo\n")  # once it is closed, the write goes through
    assert target.read_bytes() == b"version nuevo\n"


def test_restoring_over_a_file_another_program_holds_open_stops_and_leaves_that_file_as_it_was(tmp_path):
    data = tmp_path / "SICAR" / "datos"
    data.mkdir(parents=True)
    invoice = data / "factura F1001.xml"
    invoice.write_text("<cfdi:Comprobante Folio='1001'/>", encoding="utf-8")
    usb = tmp_path / "USB" / "Respaldos"
    usb.mkdir(parents=True)
    config = Config(source=SourceConfig(paths=[str(data)]), destination=DestinationConfig(folder=str(usb)))
    done = run_backup(config)
    assert done.status == "ok", done.message
    invoice.write_text("<cfdi:Comprobante Folio='1001' Total='99'/>", encoding="utf-8")

    from wizard.core import restore

    with open(invoice, "rb"), pytest.raises(UserError) as caught:  # the invoice is open in another program
        restore.restore_to_original(done.archive, config)

    # the sentence names the file and the reason (wizard/core/oserrors.py), not "no permission"
    assert invoice.name in str(caught.value) and "abierto en otro programa" in str(caught.value), caught.value
    assert invoice.read_text(encoding="utf-8") == "<cfdi:Comprobante Folio='1001' Total='99'/>"
    assert not [p for p in data.rglob("*") if ".restaurando" in p.name], "a temporary file was left"


# -- SQLite's lock bytes at 1 GiB --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def database_past_1_gib(tmp_path_factory) -> Path:
    """A real SQLite database a little larger than 1 GiB, where SQLite's lock bytes lie (blobs of zeros:
    quick to write and to compress)."""
    path = tmp_path_factory.mktemp("grande") / "punto_de_venta.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA page_size=65536")
    conn.execute("CREATE TABLE imagenes (id INTEGER PRIMARY KEY, datos BLOB)")
    conn.executemany("INSERT INTO imagenes (datos) VALUES (zeroblob(?))", [(MiB,)] * 1050)
    conn.commit()
    conn.close()
    assert path.stat().st_size > SQLITE_PENDING_BYTE + 8 * MiB
    return path


def hold_exclusively(path: Path) -> sqlite3.Connection:
    """A connection that holds the database as a writer does: SQLite locks its pending, reserved and shared
    bytes (at 1 GiB of the file, whatever the file's size)."""
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    return holder


@pytest.mark.slow
def test_windows_refuses_to_read_the_lock_bytes_of_a_database_sqlite_holds(database_past_1_gib):
    holder = hold_exclusively(database_past_1_gib)
    try:
        with open(database_past_1_gib, "rb", buffering=0) as fh:
            fh.seek(SQLITE_PENDING_BYTE - CHUNK_SIZE)
            assert len(fh.read(CHUNK_SIZE)) == CHUNK_SIZE  # everything before them reads
            fh.seek(SQLITE_PENDING_BYTE)
            with pytest.raises(OSError):
                fh.read(4096)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@pytest.mark.slow
def test_early_compression_of_a_database_sqlite_holds_stops_before_its_lock_bytes(database_past_1_gib, tmp_path,
                                                                                   caplog):
    """As while a snapshot is written: every whole chunk below 1 GiB is compressed early, none reaches the
    lock bytes (a refused read would end the early work with a log line), and the member is right."""
    caplog.set_level(logging.INFO, logger="wizard")
    size = database_past_1_gib.stat().st_size
    archive = tmp_path / "respaldo.zip"
    holder = hold_exclusively(database_past_1_gib)
    try:
        with open(archive, "xb") as fp:
            writer = ZipWriter(fp, read_back=archive)
            writer.begin("datos/punto_de_venta.db", time.time(), size, early_head=EARLY_HEAD)
            expected = (SQLITE_PENDING_BYTE - EARLY_HEAD) // CHUNK_SIZE
            with EarlyCompression(writer, database_past_1_gib, EARLY_HEAD, end=SQLITE_PENDING_BYTE) as early:
                deadline = time.monotonic() + 300
                while early.chunks < expected and time.monotonic() < deadline:
                    time.sleep(0.05)
                time.sleep(0.5)  # a moment more for a chunk it should not take
            assert early.chunks == expected
            holder.execute("ROLLBACK")  # the snapshot is complete: SQLite lets go of the file
            with open(database_past_1_gib, "rb") as fh:
                while piece := fh.read(writer.next_piece):
                    writer.write(piece)
            entry = writer.end()
            writer.close()
    finally:
        holder.close()
    assert not [r.getMessage() for r in caplog.records if "early compression" in r.getMessage()]
    with zipfile.ZipFile(archive) as zf:
        assert zf.getinfo("datos/punto_de_venta.db").file_size == size
        assert zf.testzip() is None
    assert entry.size == size


# -- Credential Manager through keyring --------------------------------------------------------------------

@pytest.fixture
def credential_manager(monkeypatch):
    """The real Windows keyring under a service name of this test's own, emptied afterwards."""
    import keyring
    from keyring.backends import Windows
    from keyring.errors import PasswordDeleteError

    backend = keyring.get_keyring()
    assert isinstance(getattr(backend, "backends", [backend])[0], Windows.WinVaultKeyring), backend
    service = f"Respaldos-prueba-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(secrets, "SERVICE", service)
    yield service
    for name in ("dropbox", "google_drive"):
        try:
            keyring.delete_password(service, name)
        except PasswordDeleteError:
            pass


def google_credentials_json() -> str:
    """What a Google sign-in stores (oauth2client's JSON), with tokens of the real lengths."""
    from oauth2client.client import OAuth2Credentials

    credentials = OAuth2Credentials(
        "ya29." + "a" * 250, "123456789012-" + "b" * 32 + ".apps.googleusercontent.com", "GOCSPX-" + "c" * 28,
        "1//0" + "d" * 99, None, "https://oauth2.googleapis.com/token", "Respaldos/0.1",
        revoke_uri="https://oauth2.googleapis.com/revoke",
        token_response={"access_token": "ya29." + "a" * 250, "expires_in": 3599, "refresh_token": "1//0" + "d" * 99,
                        "scope": "https://www.googleapis.com/auth/drive.file", "token_type": "Bearer"},
        scopes=["https://www.googleapis.com/auth/drive.file"])
    return credentials.to_json()


@pytest.mark.parametrize("name", ["dropbox", "google_drive"])
def test_a_cloud_sign_in_is_kept_in_the_credential_manager_and_nowhere_else(credential_manager, name):
    """Credential Manager keeps at most 2560 bytes per credential (1280 UTF-16 characters, keyring does not
    split longer ones: jaraco/keyring#540); a Google sign-in (oauth2client's JSON, with tokens of the real
    lengths) is about 1400 characters."""
    import keyring

    value = (json.dumps({"refresh_token": "r" * 64, "app_key": "k" * 15, "account_id": "dbid:" + "x" * 40})
             if name == "dropbox" else google_credentials_json())

    secrets.set_secret(name, value)

    assert keyring.get_password(credential_manager, name) == value
    assert secrets.get_secret(name) == value
    assert not secrets.fallback_path().exists()
    secrets.delete_secret(name)
    assert keyring.get_password(credential_manager, name) is None
    assert secrets.get_secret(name) is None


# -- paths with a drive letter and backslashes -------------------------------------------------------------

def test_a_config_with_drive_letters_and_backslashes_backs_up_and_restores(tmp_path):
    from wizard.core import config as config_mod
    from wizard.core import restore

    data = tmp_path / "SICAR" / "datos"
    (data / "imagenes").mkdir(parents=True)
    (data / "imagenes" / "coca 600.jpg").write_bytes(os.urandom(3000))
    (data / "config.ini").write_text("impresora=CAJA1\n", encoding="utf-8")
    usb = tmp_path / "KINGSTON" / "Respaldos"
    usb.mkdir(parents=True)
    assert str(data)[1] == ":" and "\\" in str(data)  # C:\Users\...\SICAR\datos
    path = tmp_path / "respaldos.toml"
    # as a person writes Windows paths in TOML: literal strings, backslashes as they are
    path.write_text(f"[source]\npaths = ['{data}']\n[destination]\nfolder = '{usb}'\n", encoding="utf-8")

    config = config_mod.load(path)
    done = run_backup(config)

    assert done.status == "ok", done.message
    assert done.archive.parent == usb
    with zipfile.ZipFile(done.archive) as zf:
        names = set(zf.namelist())
    assert {"datos/config.ini", "datos/imagenes/coca 600.jpg"} <= names
    assert not [n for n in names if "\\" in n or ":" in n], names
    assert verify_archive(done.archive)
    target = Path(str(tmp_path / "restaurado").replace("/", "\\"))
    restore.restore_to_folder(done.archive, target)
    assert (target / "datos" / "imagenes" / "coca 600.jpg").read_bytes() == (
        data / "imagenes" / "coca 600.jpg").read_bytes()
