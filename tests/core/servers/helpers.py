"""Shops on the test servers, a POS that keeps selling into them, and the processes a backup starts.

Shared by the tests of wizard/core/servers; conftest.py has their asserts rewritten like a test's.
"""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import threading
import time
from pathlib import Path

from tests.helpers import ROOT, respaldos_cmd
from wizard.core import backup, config, servers

_names = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}_{os.getpid()}_{next(_names)}"


def make_config(dest: Path, *databases, paths_: list[Path] | None = None) -> config.Config:
    cfg = config.Config()
    cfg.source.paths = [str(p) for p in paths_ or []]
    cfg.source.databases = list(databases)
    cfg.destination.folder = str(dest)
    return cfg


def make_mysql_shop(server, name: str, sales: int = 40_000) -> None:
    server.admin(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    server.admin(f"""
        CREATE TABLE productos (id INT PRIMARY KEY, nombre VARCHAR(100), precio DECIMAL(10,2)) ENGINE=InnoDB;
        CREATE TABLE ventas (id INT AUTO_INCREMENT PRIMARY KEY, fecha DATETIME(6), total DECIMAL(12,2),
                             nota VARCHAR(200)) ENGINE=InnoDB;
        CREATE TABLE venta_lineas (id INT AUTO_INCREMENT PRIMARY KEY, venta_id INT NOT NULL, producto_id INT,
                                   cantidad INT, precio DECIMAL(10,2), KEY (venta_id)) ENGINE=InnoDB;
        INSERT INTO productos SELECT seq, CONCAT('Producto ñandú ', seq), seq * 0.75 FROM seq_1_to_2000;
        INSERT INTO ventas (fecha, total, nota)
            SELECT NOW(6) - INTERVAL seq MINUTE, seq * 1.5, CONCAT('venta histórica ', seq, ' ', REPEAT('x', 60))
            FROM seq_1_to_{sales};
        INSERT INTO venta_lineas (venta_id, producto_id, cantidad, precio)
            SELECT v.seq, 1 + v.seq % 2000, k.seq, 10.5 FROM seq_1_to_{sales} v, seq_1_to_3 k;
        CREATE PROCEDURE total_vendido() SELECT SUM(total) FROM ventas;
        CREATE TRIGGER ventas_sin_nota BEFORE INSERT ON ventas FOR EACH ROW SET NEW.nota = COALESCE(NEW.nota, '');
        CREATE EVENT limpieza ON SCHEDULE EVERY 1 DAY DO DELETE FROM ventas WHERE 1 = 0;
    """, database=name)


MYSQL_SALE = """START TRANSACTION;
INSERT INTO ventas (fecha, total, nota) VALUES (NOW(6), {total}, 'venta en caja {n}');
SET @v = LAST_INSERT_ID();
INSERT INTO venta_lineas (venta_id, producto_id, cantidad, precio) VALUES (@v, 1, 1, 10.5), (@v, 2, 2, 3.25),
    (@v, 3, 3, 99.9);
COMMIT;
SELECT @v;
"""


FIREBIRD_SALE = """EXECUTE BLOCK AS DECLARE V INTEGER; BEGIN
INSERT INTO VENTAS (FECHA, TOTAL, NOTA) VALUES (CURRENT_TIMESTAMP, {total}, 'venta en caja {n}') RETURNING ID INTO :V;
INSERT INTO VENTA_LINEAS (VENTA_ID, PRODUCTO_ID, CANTIDAD, PRECIO) VALUES (:V, 1, 1, 10.5);
INSERT INTO VENTA_LINEAS (VENTA_ID, PRODUCTO_ID, CANTIDAD, PRECIO) VALUES (:V, 2, 2, 3.25);
INSERT INTO VENTA_LINEAS (VENTA_ID, PRODUCTO_ID, CANTIDAD, PRECIO) VALUES (:V, 3, 3, 99.9);
END^
COMMIT^
"""


class PosWriter:
    """A POS that keeps selling: one client process committing a sale and its three lines per transaction."""

    def __init__(self, args: list[str], sale_sql: str, preamble: str = "", env: dict | None = None):
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=env)
        self.sale_sql = sale_sql
        self.sent = 0
        self.commits: list[float] = []  # when each commit was acknowledged (clients that print one line per sale)
        self._stop = threading.Event()
        self._preamble = preamble
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for _line in self.proc.stdout:
            self.commits.append(time.monotonic())

    def _run(self) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(self._preamble)
            while not self._stop.is_set():
                self.proc.stdin.write(self.sale_sql.format(total=1 + self.sent % 97, n=self.sent))
                self.proc.stdin.flush()
                self.sent += 1
                time.sleep(0.003)
        except BrokenPipeError:
            pass

    def stop(self) -> tuple[int, str]:
        """Stop selling; the client's exit code and error output (both must be clean)."""
        self._stop.set()
        self._thread.join(timeout=30)
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        rc = self.proc.wait(timeout=60)
        self._reader.join(timeout=30)
        return rc, self.proc.stderr.read() if self.proc.stderr else ""


def mysql_writer(server, name: str) -> PosWriter:
    return PosWriter(["mariadb", "--no-defaults", f"--socket={server.socket}", "-uroot", "--batch", "--unbuffered",
                      "--skip-column-names", f"--database={name}"], MYSQL_SALE)


def wait_until(predicate, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition never became true"
        time.sleep(0.05)


def mysql_counts(server, name: str) -> tuple[int, int]:
    max_id, count = server.admin("SELECT COALESCE(MAX(id), 0), COUNT(*) FROM ventas", name).split()
    return int(max_id), int(count)


def make_firebird_shop(server, name: str, sales: int = 30_000) -> Path:
    path = server.create_database(name)
    server.isql(f"""
CREATE TABLE PRODUCTOS (ID INTEGER PRIMARY KEY, NOMBRE VARCHAR(100), PRECIO NUMERIC(10,2));
CREATE TABLE VENTAS (ID INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, FECHA TIMESTAMP,
                     TOTAL NUMERIC(12,2), NOTA VARCHAR(200));
CREATE TABLE VENTA_LINEAS (ID INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, VENTA_ID INTEGER NOT NULL,
                           PRODUCTO_ID INTEGER, CANTIDAD INTEGER, PRECIO NUMERIC(10,2));
CREATE INDEX VENTA_LINEAS_VENTA ON VENTA_LINEAS (VENTA_ID);
COMMIT;
SET TERM ^;
EXECUTE BLOCK AS DECLARE I INTEGER = 1; DECLARE V INTEGER; BEGIN
  WHILE (I <= 2000) DO BEGIN
    INSERT INTO PRODUCTOS VALUES (:I, 'Producto ñandú ' || :I, :I * 0.75); I = I + 1;
  END
  I = 1;
  WHILE (I <= {sales}) DO BEGIN
    INSERT INTO VENTAS (FECHA, TOTAL, NOTA) VALUES (CURRENT_TIMESTAMP, :I * 1.5,
      'venta histórica ' || :I || ' xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx') RETURNING ID INTO :V;
    INSERT INTO VENTA_LINEAS (VENTA_ID, PRODUCTO_ID, CANTIDAD, PRECIO) VALUES (:V, 1, 1, 10.5);
    INSERT INTO VENTA_LINEAS (VENTA_ID, PRODUCTO_ID, CANTIDAD, PRECIO) VALUES (:V, 2, 2, 3.25);
    INSERT INTO VENTA_LINEAS (VENTA_ID, PRODUCTO_ID, CANTIDAD, PRECIO) VALUES (:V, 3, 3, 99.9);
    I = I + 1;
  END
END^
SET TERM ;^
COMMIT;
""", path)
    return path


def firebird_counts(server, path) -> tuple[int, int]:
    max_id, count = server.values("SELECT COALESCE(MAX(ID), 0) AS M, COUNT(*) AS N FROM VENTAS;", path)
    return int(max_id), int(count)


def closed_port() -> int:
    """A port bound and released again: nothing listens there, as with a stopped server."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def failed_backup(cfg: config.Config, dest: Path) -> backup.BackupResult:
    result = backup.run_backup(cfg)
    assert result.status == "failed"
    assert list(dest.iterdir()) == [], "a failed run leaves nothing in the destination"
    return result


def children() -> list[tuple[int, list[str], bytes]]:
    """(pid, argv, environ) of this process's children, read from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[1]) != os.getpid():
                continue
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            environ = Path(f"/proc/{entry}/environ").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        found.append((int(entry), [a.decode(errors="replace") for a in argv if a], environ))
    return found


DUMP_TOOLS = ("mariadb-dump", "mysqldump", "gbak")


def descendants(root: int) -> list[tuple[int, list[str], bytes]]:
    """(pid, argv, environ) of every process below ``root``, read from /proc."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    found, wanted = [], {root}
    changed = True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if parent in wanted and pid not in wanted:
                wanted.add(pid)
                changed = True
    for pid in wanted - {root}:
        try:
            argv = [a.decode(errors="replace") for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if a]
        except OSError:
            continue
        if argv:  # a zombie has none
            found.append((pid, argv, b""))
    return found


def secret_shop(engine: str, mariadb_server, firebird_server, prefix: str = "secreto"):
    """A database big enough for its dump to be watched while it runs, with its password stored."""
    if engine == "mysql":
        name = unique(prefix)
        make_mysql_shop(mariadb_server, name, sales=40_000)
        db, password = mariadb_server.source(name), mariadb_server.password
    else:
        db = firebird_server.source(make_firebird_shop(firebird_server, unique(prefix.upper()) + ".FDB",
                                                       sales=30_000))
        password = firebird_server.password
    servers.set_password(db, password)
    return db, password


def files_holding(folder: Path, secret: str) -> list[Path]:
    found = []
    for f in folder.rglob("*"):
        try:
            if f.is_file() and secret.encode() in f.read_bytes():
                found.append(f)
        except OSError:
            pass
    return found


def db_restore_cli(archive: Path, name: str, cfg_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(respaldos_cmd("db", "restore", str(archive), name, "--config", str(cfg_path), *args),
                          capture_output=True, text=True, cwd=ROOT, timeout=300, check=False)


def firebird_attachments(server, path: Path) -> int:
    """Attachments to ``path`` other than the one asking."""
    return int(server.scalar("SELECT COUNT(*) FROM MON$ATTACHMENTS WHERE MON$ATTACHMENT_ID <> CURRENT_CONNECTION "
                             "AND MON$SYSTEM_FLAG = 0;", path))
