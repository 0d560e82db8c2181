"""The password stays secret: it reaches the tools through an inherited descriptor (or a 0600 file where
there are none), never a command line, the environment, the disk, the log or the output.
"""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.core.servers.helpers import (
    DUMP_TOOLS,
    children,
    descendants,
    files_holding,
    make_config,
    make_firebird_shop,
    make_mysql_shop,
    secret_shop,
    unique,
    wait_until,
)
from tests.helpers import ROOT, respaldos_cmd
from wizard.core import backup, config, history, paths, servers
from wizard.core.servers import credentials

# mariadb_server, firebird_server, db_keyring (not imported here, so that pytest can rewrite its asserts)
pytest_plugins = ["tests.dbservers"]


@pytest.mark.parametrize("engine", ["mysql", "firebird"])
def test_the_password_reaches_the_dump_tool_through_an_inherited_descriptor_and_never_touches_the_disk(
        engine, mariadb_server, firebird_server, db_keyring, dest, private_tmp):
    db, password = secret_shop(engine, mariadb_server, firebird_server)
    seen: list[tuple[list[str], bytes, dict[str, tuple[str, bytes]]]] = []
    on_disk: list[Path] = []

    def look(event) -> None:
        if event.phase == "snapshot" and event.done_bytes:
            for pid, argv, environ in children():
                if Path(argv[0]).name in DUMP_TOOLS:
                    fds = {}
                    for arg in argv:
                        m = re.search(r"/dev/fd/(\d+)$", arg)
                        if m:
                            link = f"/proc/{pid}/fd/{m.group(1)}"
                            with open(link, "rb") as fh:  # a memfd opens afresh at its start
                                fds[arg] = (os.readlink(link), fh.read())
                    seen.append((argv, environ, fds))
            on_disk.extend(files_holding(private_tmp, password))

    result = backup.run_backup(make_config(dest, db), report=look)
    assert result.status == "ok", result.message
    assert seen, "the dump process was never seen running"
    for argv, environ, fds in seen:
        assert not any(password in a for a in argv), argv
        assert password.encode() not in environ
        option = "--defaults-extra-file=" if engine == "mysql" else "/dev/fd/"
        assert [a for a in argv if a.startswith(option)], argv
        [(target, content)] = fds.values()
        assert target.startswith(("/memfd:respaldos-clave", "pipe:")), target
        if engine == "mysql":
            assert content.startswith(b"[client]\npassword=")
        else:
            assert content == password.encode()
    assert on_disk == [], "no file ever held the password"
    assert list(private_tmp.iterdir()) == [], "the private folder is removed after the dump"


@pytest.mark.parametrize("engine", ["mysql", "firebird"])
def test_without_descriptors_as_on_windows_the_password_goes_in_a_0600_file_removed_after_the_dump(
        engine, mariadb_server, firebird_server, db_keyring, dest, private_tmp, monkeypatch):
    monkeypatch.setattr(credentials, "PASS_FDS", False)
    db, password = secret_shop(engine, mariadb_server, firebird_server)
    seen: list[list[str]] = []
    secret_files: list[int] = []

    def look(event) -> None:
        if event.phase == "snapshot" and event.done_bytes:
            seen.extend(argv for _pid, argv, _env in children() if Path(argv[0]).name in DUMP_TOOLS)
            for f in private_tmp.glob("respaldos-db-*/*"):
                if f.name in ("cliente.cnf", "clave"):
                    secret_files.append(f.stat().st_mode & 0o777)

    result = backup.run_backup(make_config(dest, db), report=look)
    assert result.status == "ok", result.message
    assert seen and not any(password in a for argv in seen for a in argv)
    assert secret_files and set(secret_files) == {0o600}
    assert list(private_tmp.iterdir()) == [], "the password file is removed after the dump"


def test_where_there_is_no_memfd_the_password_goes_through_a_pipe(mariadb_server, firebird_server, db_keyring,
                                                                  private_tmp, monkeypatch):
    monkeypatch.delattr(os, "memfd_create", raising=False)
    name = unique("tubo")
    make_mysql_shop(mariadb_server, name, sales=10)
    mysql = mariadb_server.source(name)
    fb = firebird_server.source(make_firebird_shop(firebird_server, unique("TUBO") + ".FDB", sales=10))
    servers.set_password(mysql, mariadb_server.password)
    servers.set_password(fb, firebird_server.password)
    assert servers.test_connection(mysql).version.startswith("10.")
    assert servers.test_connection(fb).version.startswith("3.")
    servers.set_password(fb, "mala")
    with pytest.raises(servers.WrongPassword):
        servers.test_connection(fb)
    assert list(private_tmp.iterdir()) == []


def test_a_killed_backup_leaves_no_password_on_disk_and_the_next_run_removes_its_folder(
        mariadb_server, firebird_server, db_keyring, dest, tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    mysql, password = secret_shop("mysql", mariadb_server, firebird_server, prefix="matado")
    cfg_path = tmp_path / "respaldos.toml"
    config.save(make_config(dest, mysql), cfg_path)
    env = {**os.environ, "TMPDIR": str(tmp)}
    proc = subprocess.Popen(respaldos_cmd("backup", "--config", str(cfg_path)), cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def dumping() -> bool:
            return any(Path(argv[0]).name in DUMP_TOOLS for _pid, argv, _env in descendants(proc.pid))
        wait_until(dumping, timeout=120)
        os.kill(proc.pid, 9)  # no finally runs
    finally:
        proc.kill()
        proc.wait(timeout=60)
    [left] = list(tmp.glob(f"respaldos-db-{proc.pid}-*"))
    assert files_holding(tmp, password) == [], "the killed run left the password on disk"
    assert not list(left.glob("cliente.cnf")) and not list(left.glob("clave"))
    alive = tmp / f"respaldos-db-{os.getpid()}-vivo"  # a folder of a running process stays
    alive.mkdir()
    done = subprocess.run(respaldos_cmd("db", "test", "--config", str(cfg_path)), cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert not left.exists(), "the next run removes the folder of the killed one"
    assert alive.is_dir()


def test_stale_folders_of_dead_processes_are_removed_and_others_kept(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True).stdout.strip()
    stale = tmp_path / f"respaldos-db-{dead}-abc"
    stale.mkdir()
    (stale / "clave").write_text("secreta", encoding="utf-8")  # what a killed run leaves on Windows
    mine = tmp_path / f"respaldos-db-{os.getpid()}-def"
    mine.mkdir()
    old = tmp_path / "respaldos-db-x1y2"  # an older version's folder, without a pid
    old.mkdir()
    recent = tmp_path / "respaldos-db-z3w4"
    recent.mkdir()
    week_ago = time.time() - 8 * 86400
    os.utime(old, (week_ago, week_ago))
    other = tmp_path / "otra-cosa-123"
    other.mkdir()
    assert sorted(servers.remove_stale_folders(tmp_path)) == sorted([stale, old])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([mine.name, recent.name, other.name])


def test_the_password_never_reaches_the_log_history_config_or_output(mariadb_server, db_keyring, dest, tmp_path):
    name = unique("registro")
    make_mysql_shop(mariadb_server, name, sales=100)
    cfg_path = tmp_path / "respaldos.toml"
    config.save(make_config(dest, mariadb_server.source(name)), cfg_path)
    env = dict(os.environ)
    stored = subprocess.run(respaldos_cmd("db", "password", name, "--stdin", "--config", str(cfg_path)),
                            input=mariadb_server.password + "\n", capture_output=True, text=True, cwd=ROOT, env=env,
                            timeout=120, check=False)
    assert stored.returncode == 0, stored.stderr
    assert f"Contraseña guardada para {name}." in stored.stdout
    assert "Conexión correcta con MySQL/MariaDB" in stored.stdout
    ok = subprocess.run(respaldos_cmd("-v", "backup", "--config", str(cfg_path)), capture_output=True, text=True,
                        cwd=ROOT, env=env, timeout=300, check=False)
    assert ok.returncode == 0, ok.stderr
    # a failing run with another secret stored: its error paths must not leak it either
    wrong = "Otra-Clave-Secreta-123"
    servers.set_password(mariadb_server.source(name), wrong)
    bad = subprocess.run(respaldos_cmd("-v", "backup", "--config", str(cfg_path)), capture_output=True, text=True,
                         cwd=ROOT, env=env, timeout=300, check=False)
    assert bad.returncode == 1 and "rechazó el usuario pos" in bad.stderr
    texts = [stored.stdout + stored.stderr, ok.stdout + ok.stderr, bad.stdout + bad.stderr,
             cfg_path.read_text(encoding="utf-8")]
    texts += [p.read_text(encoding="utf-8", errors="replace") for p in paths.log_dir().rglob("*") if p.is_file()]
    texts += [p.read_text(encoding="utf-8", errors="replace") for p in paths.data_dir().rglob("*") if p.is_file()]
    assert [e.status for e in history.read()][-2:] == ["ok", "failed"]
    for text in texts:
        assert mariadb_server.password not in text and wrong not in text
    assert not re.search(r"^\s*password\s*=", cfg_path.read_text(encoding="utf-8"), re.MULTILINE)


def test_db_password_prompts_without_echo(mariadb_server, db_keyring, dest, tmp_path):
    name = unique("eco")
    make_mysql_shop(mariadb_server, name, sales=10)
    cfg_path = tmp_path / "respaldos.toml"
    config.save(make_config(dest, mariadb_server.source(name)), cfg_path)
    pid, fd = pty.fork()
    if pid == 0:  # the child: the CLI with the pty as its terminal
        os.chdir(ROOT)
        os.execv(sys.executable, respaldos_cmd("db", "password", name, "--config", str(cfg_path)))
    output = b""

    def read_until(pattern: bytes, timeout: float = 60) -> None:
        nonlocal output
        deadline = time.monotonic() + timeout
        while pattern not in output:
            assert time.monotonic() < deadline, output
            ready, _w, _x = select.select([fd], [], [], 0.5)
            if ready:
                try:
                    output += os.read(fd, 4096)
                except OSError:
                    break

    read_until(b"): ")
    assert f"Contraseña del usuario pos para {name} (127.0.0.1:{mariadb_server.port}): ".encode() in output
    os.write(fd, mariadb_server.password.encode() + b"\n")
    read_until(b"Conexi")
    read_until(b"servidor.")
    _pid, status = os.waitpid(pid, 0)
    os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0, output
    assert mariadb_server.password.encode() not in output
    assert servers.get_password(mariadb_server.source(name)) == mariadb_server.password
