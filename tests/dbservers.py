"""Real database servers for the tests: throwaway MariaDB and Firebird instances in temporary folders.

Each server is started once per test process, on a free port bound to 127.0.0.1, with its data, socket,
locks and security database in its own temporary folder; it is stopped when the process ends (and dies
with it if pytest is killed: PR_SET_PDEATHSIG). Nothing of the machine's own servers is used or touched.

- MariaDB: ``mariadb-install-db`` into a temporary datadir, then ``mariadbd --no-defaults`` on a TCP port
  and a private socket. The tests connect over TCP as user ``pos`` with a password (root stays reachable
  without one through the private socket, for the tests' own checks).
- Firebird: a standalone SuperServer (``/usr/sbin/firebird``) whose root folder is a temporary copy of
  the Debian layout (FIREBIRD=...), with its own firebird.conf (port, bind address, security database)
  and its own security3.fdb made with embedded isql. The tests connect over TCP as SYSDBA.

A test needing a server that cannot run here is skipped with the reason (packages to install), except in
CI (RESPALDOS_CI=1, set by .ci/run), where it fails. Every test that uses these servers carries the
``servers`` marker (tests/conftest.py), so ``pytest -m "not servers"`` leaves them out.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import skip_unless_ci

MYSQL_USER = "pos"
# Characters that need quoting in an option file and in a shell: the password must survive them all.
MYSQL_PASSWORD = 'Cl4ve "secreta" \\ #venta$'
FIREBIRD_USER = "SYSDBA"
FIREBIRD_PASSWORD = "Fb#cl4ve!9"
FIREBIRD_LIB = Path("/usr/lib/x86_64-linux-gnu/firebird/3.0")

_servers: dict[str, object] = {}
_failures: dict[str, str] = {}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> list[str]:
    """A prefix that makes the server get SIGTERM when the test process dies (util-linux setpriv)."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM", "--"] if setpriv else []


def _wait_port(port: int, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}: {_tail(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server did not listen on {port}: {_tail(log)}")


def _tail(path: Path) -> str:
    try:
        return path.read_text(errors="replace")[-2000:]
    except OSError:
        return "(no log)"


def _stop(proc: subprocess.Popen, folder: Path) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    shutil.rmtree(folder, ignore_errors=True)


# -- MariaDB -------------------------------------------------------------------------------------------

@dataclass
class MariaDB:
    folder: Path
    port: int
    socket: Path
    proc: subprocess.Popen

    password = MYSQL_PASSWORD  # of the user the product connects as (MYSQL_USER)

    def admin(self, sql: str, database: str | None = None, timeout: float = 120) -> str:
        """Run SQL as root through the private socket; the output (tab-separated, no headers)."""
        args = ["mariadb", "--no-defaults", f"--socket={self.socket}", "-uroot", "--batch", "--skip-column-names"]
        if database:
            args.append(f"--database={database}")
        done = subprocess.run(args, input=sql, capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"mariadb failed: {done.stderr}")
        return done.stdout

    def scalar(self, sql: str, database: str | None = None) -> str:
        return self.admin(sql, database).strip().splitlines()[-1]

    def source(self, database: str, **extra):
        from wizard.core.config import DatabaseSource

        return DatabaseSource(engine="mysql", host="127.0.0.1", port=self.port, database=database,
                              **{"user": MYSQL_USER, **extra})

    def stop(self) -> None:
        _stop(self.proc, self.folder)


def _start_mariadb() -> MariaDB:
    missing = [b for b in ("mariadb-install-db", "mariadbd", "mariadb", "mysqldump") if not shutil.which(b)
               and not Path("/usr/sbin", b).exists()]
    if missing:
        raise _Unavailable(f"{', '.join(missing)} not installed (apt-get install mariadb-server mariadb-client)")
    folder = Path(tempfile.mkdtemp(prefix="respaldos-mariadb-"))
    data, sock, log = folder / "data", folder / "mysqld.sock", folder / "error.log"
    user = ["--user=root"] if os.geteuid() == 0 else []
    small = ["--innodb-log-file-size=8M", "--innodb-buffer-pool-size=64M"]
    subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={data}", "--auth-root-authentication-method=normal",
                    "--skip-test-db", *user, *small], check=True, capture_output=True, timeout=120)
    port = free_port()
    server = shutil.which("mariadbd") or "/usr/sbin/mariadbd"
    proc = subprocess.Popen(
        [*_die_with_parent(), server, "--no-defaults", *user, f"--datadir={data}", f"--socket={sock}", f"--port={port}",
         "--bind-address=127.0.0.1", f"--pid-file={folder / 'mysqld.pid'}", f"--log-error={log}",
         "--skip-name-resolve", "--skip-log-bin", *small],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server_obj = MariaDB(folder, port, sock, proc)
    atexit.register(server_obj.stop)
    _wait_port(port, proc, log)
    while not sock.exists():
        time.sleep(0.05)
    quoted = MYSQL_PASSWORD.replace("\\", "\\\\").replace("'", "\\'")
    server_obj.admin(f"CREATE USER '{MYSQL_USER}'@'%' IDENTIFIED BY '{quoted}';\n"
                     f"GRANT ALL PRIVILEGES ON *.* TO '{MYSQL_USER}'@'%' WITH GRANT OPTION;\n")
    return server_obj


# -- Firebird ----------------------------------------------------------------------------------------------

@dataclass
class Firebird:
    folder: Path
    port: int
    proc: subprocess.Popen

    password = FIREBIRD_PASSWORD  # SYSDBA's

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def target(self, path: Path | str) -> str:
        return f"127.0.0.1/{self.port}:{path}"

    def isql(self, sql: str, path: Path | str | None, timeout: float = 120) -> str:
        """Run SQL (terminated statements) against a database on this server, as SYSDBA over TCP."""
        args = ["isql-fb", "-q", "-b"]
        if path is not None:
            args.append(self.target(path))
        done = subprocess.run(args, input=sql, capture_output=True, text=True, timeout=timeout,
                              check=False, env=self.client_env())
        if done.returncode != 0 or "Statement failed" in done.stderr:
            raise RuntimeError(f"isql failed: {done.stderr}")
        return done.stdout

    def client_env(self) -> dict[str, str]:
        """SYSDBA's credentials in the environment, so that no test process shows them in its argv."""
        return {**_client_env(), "ISC_USER": FIREBIRD_USER, "ISC_PASSWORD": FIREBIRD_PASSWORD}

    def values(self, sql: str, path: Path | str) -> list[str]:
        """The column values of a one-row query (isql's SET LIST output)."""
        out = self.isql(f"SET LIST ON;\n{sql}\n", path)
        return [line.split()[-1] for line in out.splitlines() if line.strip()]

    def scalar(self, sql: str, path: Path | str) -> str:
        return self.values(sql, path)[-1]

    def create_database(self, name: str) -> Path:
        path = self.data / name
        self.isql(f"CREATE DATABASE '{self.target(path)}' DEFAULT CHARACTER SET UTF8;\n", None)
        return path

    def source(self, path: Path | str, **extra):
        from wizard.core.config import DatabaseSource

        return DatabaseSource(engine="firebird", host="127.0.0.1", port=self.port, path=str(path),
                              **{"user": FIREBIRD_USER, **extra})

    def stop(self) -> None:
        _stop(self.proc, self.folder)


def _client_env() -> dict[str, str]:
    """The tools as a user runs them: nothing of a test server's FIREBIRD root leaks into clients."""
    env = dict(os.environ)
    for var in ("FIREBIRD", "FIREBIRD_LOCK", "FIREBIRD_TMP", "ISC_USER", "ISC_PASSWORD"):
        env.pop(var, None)
    return env


def _start_firebird() -> Firebird:
    server = Path("/usr/sbin/firebird")
    if not server.exists() or not shutil.which("gbak") or not shutil.which("isql-fb") or not FIREBIRD_LIB.is_dir():
        raise _Unavailable("firebird server or gbak/isql-fb not installed "
                           "(apt-get install firebird3.0-server firebird3.0-utils)")
    folder = Path(tempfile.mkdtemp(prefix="respaldos-firebird-"))
    for sub in ("lock", "tmp", "data"):
        (folder / sub).mkdir()
    for name in ("plugins", "intl", "UDF", "lib", "firebird.msg", "plugins.conf", "fbtrace.conf"):
        if (FIREBIRD_LIB / name).exists():
            (folder / name).symlink_to(FIREBIRD_LIB / name)
    port = free_port()
    security = folder / "security3.fdb"
    (folder / "firebird.conf").write_text(
        f"RemoteServicePort = {port}\nRemoteBindAddress = 127.0.0.1\nSecurityDatabase = {security}\n"
        "ServerMode = Super\nDatabaseAccess = Full\nUdfAccess = None\n", encoding="utf-8")
    (folder / "databases.conf").write_text("", encoding="utf-8")
    env = {**_client_env(), "FIREBIRD": str(folder), "FIREBIRD_LOCK": str(folder / "lock"),
           "FIREBIRD_TMP": str(folder / "tmp")}
    # The security database, made with embedded isql (no server needed): SYSDBA with a password.
    for sql in (f"CREATE DATABASE '{security}';\n",
                (f"CONNECT '{security}' USER {FIREBIRD_USER};\n"
                 f"CREATE USER {FIREBIRD_USER} PASSWORD '{FIREBIRD_PASSWORD}' USING PLUGIN Srp;\nCOMMIT;\n")):
        subprocess.run(["isql-fb", "-q", "-b", "-user", FIREBIRD_USER], input=sql, text=True, env=env, check=True,
                       capture_output=True, timeout=60)
    log = folder / "firebird.log"
    proc = subprocess.Popen([*_die_with_parent(), str(server)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    server_obj = Firebird(folder, port, proc)
    atexit.register(server_obj.stop)
    _wait_port(port, proc, log)
    return server_obj


# -- fixtures ---------------------------------------------------------------------------------------------

class _Unavailable(Exception):
    pass


def _get(name: str, start):
    if name in _failures:
        skip_unless_ci(_failures[name])
    if name not in _servers:
        try:
            _servers[name] = start()
        except _Unavailable as exc:
            _failures[name] = str(exc)
            skip_unless_ci(str(exc))
    return _servers[name]


def mariadb() -> MariaDB:
    """The MariaDB server of this test process (started on first use)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the test servers run on Linux only")
    return _get("mariadb", _start_mariadb)  # type: ignore[return-value]


def firebird() -> Firebird:
    """The Firebird server of this test process (started on first use)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the test servers run on Linux only")
    return _get("firebird", _start_firebird)  # type: ignore[return-value]


@pytest.fixture(scope="session")
def mariadb_server() -> MariaDB:
    return mariadb()


@pytest.fixture(scope="session")
def firebird_server() -> Firebird:
    return firebird()


@pytest.fixture
def db_keyring(tmp_path, monkeypatch):
    """A keyring for this test, shared with subprocesses (the CLI) through a file."""
    import keyring

    from tests.fakes.keyring_backend import FileKeyring

    # Asked before the variables below are set: a first get_keyring() would pick the test backend from them
    # and "restore" it after the test, with FAKE_KEYRING_FILE gone.
    previous = keyring.get_keyring()
    path = tmp_path / "keyring.json"
    monkeypatch.setenv("FAKE_KEYRING_FILE", str(path))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.fakes.keyring_backend.FileKeyring")
    keyring.set_keyring(FileKeyring())
    yield path
    keyring.set_keyring(previous)
