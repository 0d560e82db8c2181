"""POS databases on real servers: MariaDB and Firebird started by the tests (tests/dbservers.py).

A POS keeps selling during each backup; the dump streams into the archive and is restored into a new
database, which must hold every sale committed before the backup started, each with its sale lines.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import pty
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import pytest

from tests.helpers import ROOT, respaldos_cmd
from wizard.core import backup, config, history, paths, servers
from wizard.core.archive import verify_archive
from wizard.core.servers import credentials, load

# mariadb_server, firebird_server, db_keyring (not imported here, so that pytest can rewrite its asserts)
pytest_plugins = ["tests.dbservers"]

_names = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}_{os.getpid()}_{next(_names)}"


def make_config(dest: Path, *databases, paths_: list[Path] | None = None) -> config.Config:
    cfg = config.Config()
    cfg.source.paths = [str(p) for p in paths_ or []]
    cfg.source.databases = list(databases)
    cfg.destination.folder = str(dest)
    return cfg


@pytest.fixture
def dest(tmp_path) -> Path:
    folder = tmp_path / "respaldos"
    folder.mkdir()
    return folder


@pytest.fixture
def private_tmp(tmp_path, monkeypatch) -> Path:
    """The temporary folder the product uses for password files, so a test can look into it."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


# -- a MariaDB shop and a POS selling into it ------------------------------------------------------------

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


def test_a_pos_selling_during_a_mysql_backup_loses_no_sale_committed_before_it_and_the_restore_matches(
        mariadb_server, db_keyring, dest, tmp_path):
    server = mariadb_server
    name = unique("tienda")
    make_mysql_shop(server, name)
    db = server.source(name)
    servers.set_password(db, mariadb_server.password)
    (tmp_path / "datos").mkdir()
    (tmp_path / "datos" / "ticket.xml").write_text("<ticket/>", encoding="utf-8")
    writer = mysql_writer(server, name)
    dumping: list[float] = []  # when each piece of the dump arrived

    def watch(event) -> None:
        if event.phase == "snapshot" and event.current.endswith(".sql") and event.done_bytes:
            dumping.append(time.monotonic())

    try:
        wait_until(lambda: len(writer.commits) > 20)
        before_max, before_count = mysql_counts(server, name)
        result = backup.run_backup(make_config(dest, db, paths_=[tmp_path / "datos"]), report=watch)
        _, during_count = mysql_counts(server, name)
    finally:
        rc, errors = writer.stop()
    assert result.status == "ok", result.message
    assert (rc, errors) == (0, ""), "the POS saw an error while the backup ran"
    assert len(dumping) > 3
    # Sales committed in the middle half of the dump (a dump that locked the tables shows none there).
    first, last = dumping[0], dumping[-1]
    middle = (first + (last - first) / 4, last - (last - first) / 4)
    sold_while_dumping = [t for t in writer.commits if middle[0] < t < middle[1]]
    assert len(sold_while_dumping) >= 2, "the POS could not sell while the dump ran (tables locked?)"
    assert during_count > before_count

    manifest = verify_archive(result.archive)
    dumps = [f for f in manifest.files if f.kind == "mysql-dump"]
    assert [f.path for f in dumps] == [f"bases_de_datos/{name}.sql"]
    assert "datos/ticket.xml" in [f.path for f in manifest.files]
    with zipfile.ZipFile(result.archive) as zf:
        data = zf.read(dumps[0].path)
    assert hashlib.sha256(data).hexdigest() == dumps[0].sha256
    assert b"-- Dump completed" in data[-200:]
    assert mariadb_server.password.encode() not in data
    entry = manifest.databases[0]
    assert entry["engine"] == "mysql" and entry["database"] == name and entry["path"] == dumps[0].path

    restored = servers.restore_dump(result.archive, db)
    new = restored.target
    assert new != name and new.startswith(f"{name}_restaurada_")
    restored_max, restored_count = mysql_counts(server, new)
    assert restored_max >= before_max and restored_count >= before_count
    # One consistent moment: every sale with its three lines, no line without its sale.
    assert server.scalar("SELECT COUNT(*) FROM ventas v WHERE (SELECT COUNT(*) FROM venta_lineas l "
                         "WHERE l.venta_id = v.id) <> 3", new) == "0"
    assert server.scalar("SELECT COUNT(*) FROM venta_lineas l LEFT JOIN ventas v ON v.id = l.venta_id "
                         "WHERE v.id IS NULL", new) == "0"
    digest = ("SELECT COUNT(*), SUM(CRC32(CONCAT_WS('|', id, fecha, total, nota))) FROM ventas "
              f"WHERE id <= {restored_max}")
    assert server.admin(digest, new) == server.admin(digest, name)
    checksum = server.admin(f"CHECKSUM TABLE `{name}`.productos, `{new}`.productos").split()
    assert checksum[1] == checksum[3]
    assert server.scalar(f"SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = '{new}'") == "1"
    assert server.scalar(f"SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '{new}'") == "1"
    assert server.scalar(f"SELECT COUNT(*) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = '{new}'") == "1"
    # the original was not touched by the restore
    assert mysql_counts(server, name)[1] >= during_count


# -- a Firebird shop ------------------------------------------------------------------------------------

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


def test_a_pos_selling_during_a_firebird_backup_loses_no_sale_committed_before_it_and_the_restore_matches(
        firebird_server, db_keyring, dest):
    server = firebird_server
    path = make_firebird_shop(server, unique("TIENDA") + ".FDB")
    db = server.source(path)
    servers.set_password(db, firebird_server.password)
    writer = PosWriter(["isql-fb", "-q", "-b", server.target(path)], FIREBIRD_SALE, preamble="SET TERM ^ ;\n",
                       env=server.client_env())
    try:
        wait_until(lambda: firebird_counts(server, path)[1] > 30_000 + 10)
        before_max, before_count = firebird_counts(server, path)
        result = backup.run_backup(make_config(dest, db))
        _, during_count = firebird_counts(server, path)
    finally:
        rc, errors = writer.stop()
    assert result.status == "ok", result.message
    assert (rc, errors) == (0, ""), "the POS saw an error while the backup ran"
    assert during_count > before_count, "the POS could not sell while the backup ran"

    manifest = verify_archive(result.archive)
    dumps = [f for f in manifest.files if f.kind == "firebird-gbak"]
    assert [f.path for f in dumps] == [f"bases_de_datos/{db.label}.fbk"]
    assert manifest.databases[0]["file"] == str(path)

    restored = servers.restore_dump(result.archive, db)
    new = Path(restored.target)
    assert new.parent == path.parent and new.name.startswith(f"{path.stem}_restaurada_")
    restored_max, restored_count = firebird_counts(server, new)
    assert restored_max >= before_max and restored_count >= before_count
    assert server.scalar("SELECT COUNT(*) FROM VENTAS V WHERE (SELECT COUNT(*) FROM VENTA_LINEAS L "
                         "WHERE L.VENTA_ID = V.ID) <> 3;", new) == "0"
    assert server.scalar("SELECT COUNT(*) FROM VENTA_LINEAS L LEFT JOIN VENTAS V ON V.ID = L.VENTA_ID "
                         "WHERE V.ID IS NULL;", new) == "0"
    assert server.scalar(f"SELECT COUNT(*) FROM VENTAS WHERE ID <= {restored_max};", path) == str(restored_count)
    assert server.scalar("SELECT COUNT(*) FROM PRODUCTOS;", new) == "2000"


# -- errors in plain words ---------------------------------------------------------------------------------

def closed_port() -> int:
    """A port bound and released again: nothing listens there, as with a stopped server."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(params=["mysql", "firebird"])
def engine_db(request, db_keyring):
    """A small database on each engine's server, with its password stored."""
    if request.param == "mysql":
        server = request.getfixturevalue("mariadb_server")
        name = unique("errores")
        make_mysql_shop(server, name, sales=10)
        db, password = server.source(name), server.password
    else:
        server = request.getfixturevalue("firebird_server")
        path = make_firebird_shop(server, unique("ERRORES") + ".FDB", sales=10)
        db, password = server.source(path), server.password
    servers.set_password(db, password)
    return db


def failed_backup(cfg: config.Config, dest: Path) -> backup.BackupResult:
    result = backup.run_backup(cfg)
    assert result.status == "failed"
    assert list(dest.iterdir()) == [], "a failed run leaves nothing in the destination"
    return result


def test_a_wrong_password_is_named_and_says_how_to_store_the_right_one(engine_db, dest):
    servers.set_password(engine_db, "no-es-la-clave")
    with pytest.raises(servers.WrongPassword):
        servers.test_connection(engine_db)
    result = failed_backup(make_config(dest, engine_db), dest)
    assert result.message.startswith(f"El servidor {servers.ENGINE_NAMES[engine_db.engine]} rechazó el usuario "
                                     f"{engine_db.user} o su contraseña para la base de datos {engine_db.label}.")
    assert f"respaldos db password {engine_db.label}" in result.message
    assert "no-es-la-clave" not in result.message


def test_a_server_that_is_not_running_is_named_with_its_host_and_port(engine_db, dest):
    engine_db.port = closed_port()
    with pytest.raises(servers.ServerNotRunning):
        servers.test_connection(engine_db)
    result = failed_backup(make_config(dest, engine_db), dest)
    engine = servers.ENGINE_NAMES[engine_db.engine]
    assert result.message == (f"No se pudo conectar con el servidor {engine} en 127.0.0.1:{engine_db.port}. Revisa "
                              "que el servidor de la base de datos esté encendido y que el equipo y el puerto sean "
                              "correctos.")


def test_a_missing_database_is_named(engine_db, dest):
    password = servers.get_password(engine_db)
    if engine_db.engine == "mysql":
        engine_db.database = "no_existe"
        expected = f"La base de datos no_existe no existe en el servidor 127.0.0.1:{engine_db.port}."
    else:
        engine_db.path = str(Path(engine_db.path).with_name("NO_EXISTE.FDB"))
        expected = f"No se encontró la base de datos {engine_db.path} en el servidor 127.0.0.1:{engine_db.port}."
    servers.set_password(engine_db, password)  # stored under the entry's (new) name
    with pytest.raises(servers.DatabaseMissing):
        servers.test_connection(engine_db)
    result = failed_backup(make_config(dest, engine_db), dest)
    assert result.message.startswith(expected), result.message


def test_a_missing_client_tool_is_named_whether_searched_or_configured(engine_db, dest, tmp_path, monkeypatch):
    tool = "mysqldump" if engine_db.engine == "mysql" else "gbak"
    empty = tmp_path / "vacia"
    empty.mkdir()
    engine_db.client = str(empty)
    result = failed_backup(make_config(dest, engine_db), dest)
    assert result.message.startswith(f"No se encontró {tool} en {empty}. Indica en client la carpeta")
    engine_db.client = ""
    monkeypatch.setenv("PATH", str(empty))
    for var in ("ProgramW6432", "ProgramFiles", "ProgramFiles(x86)"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(servers.ClientNotFound):
        servers.test_connection(engine_db)
    result = failed_backup(make_config(dest, engine_db), dest)
    engine = servers.ENGINE_NAMES[engine_db.engine]
    assert result.message == (f"No se encontró el programa {tool} en esta computadora. Instala las herramientas de "
                              f"cliente de {engine} o indica en client de la configuración la carpeta donde está "
                              f"{tool}.")


def test_a_dump_member_always_has_a_zip64_header_whatever_the_servers_size_estimate(engine_db, dest):
    """The server's size is only an estimate: a dump that grew past 4 GiB in a member without Zip64 headers
    would break the archive, so every dump member gets them (20 bytes) and readers still open it."""
    info = servers.test_connection(engine_db)
    assert info.size is not None and info.size < 10 << 20, "a small database: the estimate says no Zip64"
    result = backup.run_backup(make_config(dest, engine_db))
    assert result.status == "ok", result.message
    manifest = verify_archive(result.archive)
    [dump] = [f for f in manifest.files if f.kind in servers.DUMP_KINDS]
    with zipfile.ZipFile(result.archive) as zf:
        member = zf.getinfo(dump.path)
        assert zf.testzip() is None
        assert hashlib.sha256(zf.read(dump.path)).hexdigest() == dump.sha256
    with open(result.archive, "rb") as fh:
        fh.seek(member.header_offset)
        header = fh.read(30)
        name_len, extra_len = int.from_bytes(header[26:28], "little"), int.from_bytes(header[28:30], "little")
        fh.seek(name_len, 1)
        extra = fh.read(extra_len)
    assert int.from_bytes(header[4:6], "little") == 45, "version needed: 4.5 (Zip64)"
    assert header[18:26] == b"\xff" * 8, "sizes live in the Zip64 field"
    assert extra[:4] == (1).to_bytes(2, "little") + (16).to_bytes(2, "little")
    assert int.from_bytes(extra[4:12], "little") == dump.size
    for tester in (["unzip", "-tq"], ["7z", "t"]):
        if shutil.which(tester[0]):
            tested = subprocess.run([*tester, str(result.archive)], capture_output=True, text=True, check=False)
            assert tested.returncode == 0, tested.stdout + tested.stderr


def test_the_connection_test_warns_about_tables_a_consistent_dump_does_not_cover(mariadb_server, db_keyring):
    server = mariadb_server
    name = unique("myisam")
    make_mysql_shop(server, name, sales=10)
    db = server.source(name)
    servers.set_password(db, server.password)
    assert servers.test_connection(db).warnings == [], "InnoDB only: nothing to say"
    server.admin("CREATE TABLE clientes (id INT PRIMARY KEY) ENGINE=MyISAM; CREATE VIEW vista AS SELECT 1 AS x;",
                 database=name)
    info = servers.test_connection(db)
    assert info.warnings == [(
        "Aviso: la tabla clientes (MyISAM) no es InnoDB, así que su copia no es de un solo momento: si el punto de "
        "venta la cambia durante el respaldo, puede quedar desigual con las demás. Respalda con el punto de venta "
        "cerrado o pregunta a su proveedor si puede pasarla a InnoDB.")]
    assert info.summary(db).splitlines()[1] == info.warnings[0]
    server.admin("".join(f"CREATE TABLE t{i} (id INT) ENGINE=Aria;" for i in range(6)), database=name)
    [warning] = servers.test_connection(db).warnings
    assert warning.startswith("Aviso: las tablas clientes (MyISAM), t0 (Aria), t1 (Aria), t2 (Aria), t3 (Aria) y 2 "
                              "más no son InnoDB")


# -- the dump must have completed ---------------------------------------------------------------------------

def _children() -> list[tuple[int, list[str], bytes]]:
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


def _descendants(root: int) -> list[tuple[int, list[str], bytes]]:
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


def test_a_dump_killed_midway_fails_the_run_and_leaves_older_backups_untouched(mariadb_server, db_keyring, dest):
    name = unique("cortada")
    make_mysql_shop(mariadb_server, name, sales=40_000)
    db = mariadb_server.source(name)
    servers.set_password(db, mariadb_server.password)
    cfg = make_config(dest, db)
    first = backup.run_backup(cfg)
    assert first.status == "ok", first.message
    older = {p.name: p.read_bytes() for p in dest.iterdir()}
    killed = []

    def kill_the_dump(event) -> None:
        if event.phase == "snapshot" and event.done_bytes and not killed:
            for pid, argv, _env in _children():
                if Path(argv[0]).name in DUMP_TOOLS:
                    os.kill(pid, 9)
                    killed.append(pid)

    time.sleep(1.1)  # a new archive name
    result = backup.run_backup(cfg, report=kill_the_dump)
    assert killed, "the dump was never seen running"
    assert result.status == "failed"
    assert result.message.startswith(f"La copia de la base de datos {name} quedó incompleta")
    assert {p.name: p.read_bytes() for p in dest.iterdir()} == older


def test_cancelling_during_a_dump_stops_the_tool_and_leaves_nothing(mariadb_server, db_keyring, dest):
    name = unique("cancelada")
    make_mysql_shop(mariadb_server, name, sales=40_000)
    db = mariadb_server.source(name)
    servers.set_password(db, mariadb_server.password)
    cancel = threading.Event()
    tools: list[int] = []

    def press_cancel(event) -> None:
        if event.phase == "snapshot" and event.done_bytes:
            tools.extend(pid for pid, argv, _env in _children() if Path(argv[0]).name in DUMP_TOOLS)
            cancel.set()

    result = backup.run_backup(make_config(dest, db), report=press_cancel, cancel=cancel)
    assert result.status == "cancelled"
    assert tools and list(dest.iterdir()) == []
    assert not [pid for pid, _argv, _env in _children() if pid in tools], "the dump tool is still running"


def test_a_dump_without_its_completion_trailer_does_not_count(mariadb_server, db_keyring, dest, tmp_path):
    name = unique("sin_final")
    make_mysql_shop(mariadb_server, name, sales=100)
    # A mysqldump that exits 0 but whose output was cut short (the last lines never arrived).
    tools = tmp_path / "cliente"
    tools.mkdir()
    real = shutil.which("mariadb-dump")
    (tools / "mysqldump").write_text(f'#!/bin/sh\n"{real}" "$@" | head -c -300\nexit 0\n', encoding="utf-8")
    (tools / "mysqldump").chmod(0o755)
    os.symlink(shutil.which("mariadb"), tools / "mysql")
    db = mariadb_server.source(name, client=str(tools / "mysqldump"))
    servers.set_password(db, mariadb_server.password)
    result = failed_backup(make_config(dest, db), dest)
    assert result.message == (f"La copia de la base de datos {name} quedó incompleta: mysqldump terminó sin "
                              "completarla. Vuelve a intentar; si se repite, revisa el registro.")


def test_the_client_is_found_in_the_usual_install_folders(mariadb_server, db_keyring, dest, tmp_path, monkeypatch):
    name = unique("carpetas")
    make_mysql_shop(mariadb_server, name, sales=100)
    program_files = tmp_path / "Program Files"
    bin_dir = program_files / "MariaDB 10.11" / "bin"
    bin_dir.mkdir(parents=True)
    os.symlink(shutil.which("mariadb-dump"), bin_dir / "mysqldump")
    os.symlink(shutil.which("mariadb"), bin_dir / "mysql")
    monkeypatch.setenv("PATH", str(tmp_path / "nada"))
    monkeypatch.setenv("ProgramFiles", str(program_files))
    db = mariadb_server.source(name)
    servers.set_password(db, mariadb_server.password)
    assert servers.find_tool(db) == bin_dir / "mysqldump"
    result = backup.run_backup(make_config(dest, db))
    assert result.status == "ok", result.message


# -- the password stays secret ---------------------------------------------------------------------------

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


def _files_holding(folder: Path, secret: str) -> list[Path]:
    found = []
    for f in folder.rglob("*"):
        try:
            if f.is_file() and secret.encode() in f.read_bytes():
                found.append(f)
        except OSError:
            pass
    return found


@pytest.mark.parametrize("engine", ["mysql", "firebird"])
def test_the_password_reaches_the_dump_tool_through_an_inherited_descriptor_and_never_touches_the_disk(
        engine, mariadb_server, firebird_server, db_keyring, dest, private_tmp):
    db, password = secret_shop(engine, mariadb_server, firebird_server)
    seen: list[tuple[list[str], bytes, dict[str, tuple[str, bytes]]]] = []
    on_disk: list[Path] = []

    def look(event) -> None:
        if event.phase == "snapshot" and event.done_bytes:
            for pid, argv, environ in _children():
                if Path(argv[0]).name in DUMP_TOOLS:
                    fds = {}
                    for arg in argv:
                        m = re.search(r"/dev/fd/(\d+)$", arg)
                        if m:
                            link = f"/proc/{pid}/fd/{m.group(1)}"
                            with open(link, "rb") as fh:  # a memfd opens afresh at its start
                                fds[arg] = (os.readlink(link), fh.read())
                    seen.append((argv, environ, fds))
            on_disk.extend(_files_holding(private_tmp, password))

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
            seen.extend(argv for _pid, argv, _env in _children() if Path(argv[0]).name in DUMP_TOOLS)
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
            return any(Path(argv[0]).name in DUMP_TOOLS for _pid, argv, _env in _descendants(proc.pid))
        wait_until(dumping, timeout=120)
        os.kill(proc.pid, 9)  # no finally runs
    finally:
        proc.kill()
        proc.wait(timeout=60)
    [left] = list(tmp.glob(f"respaldos-db-{proc.pid}-*"))
    assert _files_holding(tmp, password) == [], "the killed run left the password on disk"
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


# -- restoring from the command line ------------------------------------------------------------------------

def test_db_restore_goes_into_a_new_database_and_replaces_the_original_only_with_the_pos_closed(
        mariadb_server, db_keyring, dest, tmp_path):
    server = mariadb_server
    name = unique("restaurar")
    make_mysql_shop(server, name, sales=500)
    db = server.source(name)
    servers.set_password(db, mariadb_server.password)
    cfg_path = tmp_path / "respaldos.toml"
    config.save(make_config(dest, db), cfg_path)
    result = backup.run_backup(config.load(cfg_path))
    assert result.status == "ok", result.message

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(respaldos_cmd("db", "restore", str(result.archive), name, "--config", str(cfg_path),
                                            *args), capture_output=True, text=True, cwd=ROOT, timeout=300, check=False)

    copy = f"{name}_copia"
    done = cli("--as", copy)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (f"Se restauró la base de datos {name} como {copy} en el servidor "
                                   f"127.0.0.1:{server.port}. La original no se tocó.")
    assert server.scalar("SELECT COUNT(*) FROM ventas", copy) == "500"
    again = cli("--as", copy)
    assert again.returncode == 1 and "Ya existe una base de datos con ese nombre" in again.stderr
    assert server.scalar("SELECT COUNT(*) FROM ventas", copy) == "500"

    server.admin("DELETE FROM venta_lineas; DELETE FROM ventas;", name)  # a mistake to undo
    pos = subprocess.Popen(["mariadb", "--no-defaults", f"--socket={server.socket}", "-uroot", f"--database={name}"],
                           stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: server.scalar(f"SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = '{name}'")
                   != "0")
        refused = cli("--replace")
    finally:
        pos.stdin.close()
        pos.wait(timeout=30)
    assert refused.returncode == 1
    assert refused.stderr.strip() == (f"Hay 1 conexión abierta a la base de datos {name}. Cierra el punto de venta "
                                      "en todas las cajas y vuelve a intentar.")
    assert server.scalar("SELECT COUNT(*) FROM ventas", name) == "0"
    wait_until(lambda: server.scalar(f"SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = '{name}'")
               == "0")
    replaced = cli("--replace")
    assert replaced.returncode == 0, replaced.stderr
    assert server.scalar("SELECT COUNT(*) FROM ventas", name) == "500"
    safety = list(dest.glob(f"{name}_antes_de_restaurar_*.sql"))
    assert len(safety) == 1 and safety[0].read_bytes().rstrip().splitlines()[-1].startswith(b"-- Dump completed")
    assert str(safety[0]) in replaced.stdout


def test_db_restore_takes_the_backup_as_an_archive_anywhere_among_the_options_or_from_the_cloud():
    from wizard.cli import build_parser

    def parsed(*argv: str) -> tuple:
        args = build_parser().parse_args(["db", "restore", *argv])
        return args.archive, args.name, args.from_cloud, args.target, args.replace

    zip_ = Path("E:/Respaldos/respaldo_2026-12-03_07-00-00.zip")
    assert parsed(str(zip_), "sicar") == (zip_, "sicar", None, None, False)
    assert parsed(str(zip_), "--as", "sicar_prueba", "sicar") == (zip_, "sicar", None, "sicar_prueba", False)
    assert parsed("--replace", str(zip_), "sicar") == (zip_, "sicar", None, None, True)
    assert parsed("--from-cloud", zip_.name, "sicar") == (None, "sicar", zip_.name, None, False)
    assert parsed("sicar", "--as", "sicar_prueba", "--from-cloud", zip_.name) == (
        None, "sicar", zip_.name, "sicar_prueba", False)


@pytest.mark.parametrize("argv", [["respaldo.zip", "sicar", "--from-cloud", "respaldo.zip"], ["sicar"]],
                         ids=["archive-and-cloud", "neither"])
def test_db_restore_with_both_an_archive_and_a_cloud_backup_or_neither_is_bad_usage(argv, tmp_path):
    done = subprocess.run(respaldos_cmd("db", "restore", *argv, "--config", str(tmp_path / "no_existe.toml")),
                          capture_output=True, text=True, cwd=ROOT, timeout=60, check=False)
    assert done.returncode == 2
    assert done.stderr.strip() == ("respaldos db restore: indica un ARCHIVO o --from-cloud RESPALDO (uno de los "
                                   "dos), y el NOMBRE de la base de datos.")


def test_db_restore_help_shows_both_ways_of_naming_the_backup():
    # Wide enough that argparse wraps no line (it may break at the hyphens of a backup's name).
    done = subprocess.run(respaldos_cmd("db", "restore", "--help"), capture_output=True, text=True, cwd=ROOT,
                          timeout=60, check=False, env={**os.environ, "COLUMNS": "400"})
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())
    assert text.startswith("usage: respaldos db restore [-h] [--config P] [--from-cloud RESPALDO] "
                           "[--as NUEVA | --replace] [ARCHIVO] NOMBRE")
    assert ("El respaldo es el ARCHIVO .zip o, con --from-cloud, uno que está en la nube: se descarga, se "
            "comprueba su suma y se borra al terminar.") in text
    assert "ARCHIVO el respaldo (.zip); no se indica con --from-cloud" in text
    assert ("--from-cloud RESPALDO descarga de la nube el respaldo RESPALDO (respaldo_AAAA-MM-DD_HH-MM-SS.zip), "
            "comprueba su suma y carga de él la base de datos") in text


def test_the_command_that_loads_a_dump_names_the_archive_or_the_cloud_backup():
    zip_ = "E:/Respaldos/respaldo_2026-12-03_07-00-00.zip"
    assert servers.restore_command(zip_, "sicar") == f'respaldos db restore "{zip_}" sicar'
    assert servers.restore_command(None, "sicar", from_cloud="respaldo_2026-12-03_07-00-00.zip") == (
        "respaldos db restore --from-cloud respaldo_2026-12-03_07-00-00.zip sicar")
    assert servers.restore_command(zip_, "caja 1", "/otra/respaldos.toml",
                                     from_cloud="respaldo_2026-12-03_07-00-00.zip") == (
        'respaldos db restore --from-cloud respaldo_2026-12-03_07-00-00.zip "caja 1" --config "/otra/respaldos.toml"')


def db_restore_cli(archive: Path, name: str, cfg_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(respaldos_cmd("db", "restore", str(archive), name, "--config", str(cfg_path), *args),
                          capture_output=True, text=True, cwd=ROOT, timeout=300, check=False)


def test_replace_is_refused_when_the_mysql_user_cannot_see_other_users_connections(
        mariadb_server, db_keyring, dest, tmp_path):
    server = mariadb_server
    name = unique("sin_process")
    make_mysql_shop(server, name, sales=50)
    servers.set_password(server.source(name), server.password)
    archive = backup.run_backup(make_config(dest, server.source(name)))
    assert archive.status == "ok", archive.message
    server.admin("DELETE FROM venta_lineas; DELETE FROM ventas;", name)
    cajero = f"cajero_{os.getpid()}"
    server.admin(f"CREATE USER '{cajero}'@'%' IDENTIFIED BY 'caja-1'; GRANT ALL ON `{name}`.* TO '{cajero}'@'%';")
    db = server.source(name, user=cajero)
    servers.set_password(db, "caja-1")
    cfg_path = tmp_path / "respaldos.toml"
    config.save(make_config(dest, db), cfg_path)
    pos = subprocess.Popen(["mariadb", "--no-defaults", f"--socket={server.socket}", "-uroot", f"--database={name}"],
                           stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: server.scalar(f"SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = '{name}'")
                   != "0")
        refused = db_restore_cli(archive.archive, name, cfg_path, "--replace")
    finally:
        pos.stdin.close()
        pos.wait(timeout=30)
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        f"No se pudo comprobar si el punto de venta sigue conectado a la base de datos {name}: el usuario {cajero} "
        "solo puede ver sus propias conexiones. Para reemplazarla, pon en user de la configuración un usuario que "
        f"las vea todas (root, o uno con el permiso PROCESS) y guarda su contraseña con: respaldos db password "
        f"{name}. O restáurala como base de datos nueva (sin --replace): la original no se toca.")
    assert server.scalar("SELECT COUNT(*) FROM ventas", name) == "0", "nothing was replaced"
    assert not list(dest.glob("*_antes_de_restaurar_*")), "no safety dump either"

    # A POS using the same user is seen even without the privilege.
    same_user = subprocess.Popen(["mariadb", "--no-defaults", "--host=127.0.0.1", f"--port={server.port}",
                                  "--protocol=TCP", f"--user={cajero}", "--password=caja-1", f"--database={name}"],
                                 stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: server.scalar("SELECT COUNT(*) FROM information_schema.PROCESSLIST "
                                         f"WHERE USER = '{cajero}'") != "0")
        in_use = db_restore_cli(archive.archive, name, cfg_path, "--replace")
    finally:
        same_user.stdin.close()
        same_user.wait(timeout=30)
    assert in_use.returncode == 1
    assert in_use.stderr.strip().startswith(f"Hay 1 conexión abierta a la base de datos {name}.")


def test_replace_checks_again_after_the_safety_dump_that_the_pos_did_not_open_meanwhile(
        mariadb_server, db_keyring, dest, monkeypatch):
    server = mariadb_server
    name = unique("reabierto")
    make_mysql_shop(server, name, sales=50)
    db = server.source(name)
    servers.set_password(db, server.password)
    archive = backup.run_backup(make_config(dest, db)).archive
    server.admin("DELETE FROM venta_lineas; DELETE FROM ventas;", name)
    opened: list[subprocess.Popen] = []
    real_dump = servers.dump_to_file

    def dump_while_the_pos_opens(*args, **kwargs):
        done = real_dump(*args, **kwargs)
        opened.append(subprocess.Popen(["mariadb", "--no-defaults", f"--socket={server.socket}", "-uroot",
                                        f"--database={name}"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL))
        wait_until(lambda: server.scalar("SELECT COUNT(*) FROM information_schema.PROCESSLIST "
                                         f"WHERE DB = '{name}'") != "0")
        return done

    monkeypatch.setattr(load, "dump_to_file", dump_while_the_pos_opens)  # where restore_dump finds it
    try:
        with pytest.raises(servers.DatabaseInUse):
            servers.restore_dump(archive, db, replace=True, safety_folder=dest)
    finally:
        for pos in opened:
            pos.stdin.close()
            pos.wait(timeout=30)
    assert opened, "the safety dump ran"
    assert server.scalar("SELECT COUNT(*) FROM ventas", name) == "0", "nothing was replaced"
    assert len(list(dest.glob(f"{name}_antes_de_restaurar_*.sql"))) == 1


def firebird_attachments(server, path: Path) -> int:
    """Attachments to ``path`` other than the one asking."""
    return int(server.scalar("SELECT COUNT(*) FROM MON$ATTACHMENTS WHERE MON$ATTACHMENT_ID <> CURRENT_CONNECTION "
                             "AND MON$SYSTEM_FLAG = 0;", path))


def test_firebird_replace_is_refused_while_the_pos_is_connected_and_done_after_a_safety_dump(
        firebird_server, db_keyring, dest, tmp_path):
    server = firebird_server
    path = make_firebird_shop(server, unique("REEMPLAZO") + ".FDB", sales=500)
    db = server.source(path)
    servers.set_password(db, server.password)
    cfg_path = tmp_path / "respaldos.toml"
    config.save(make_config(dest, db), cfg_path)
    result = backup.run_backup(config.load(cfg_path))
    assert result.status == "ok", result.message
    server.isql("DELETE FROM VENTA_LINEAS; DELETE FROM VENTAS; COMMIT;", path)  # a mistake to undo

    pos = subprocess.Popen(["isql-fb", "-q", server.target(path)], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, env=server.client_env())
    try:
        wait_until(lambda: firebird_attachments(server, path) > 0)
        refused = db_restore_cli(result.archive, db.label, cfg_path, "--replace")
    finally:
        pos.stdin.close()
        pos.wait(timeout=30)
    assert refused.returncode == 1
    assert refused.stderr.strip() == (f"Hay 1 conexión abierta a la base de datos {db.label}. Cierra el punto de "
                                      "venta en todas las cajas y vuelve a intentar.")
    assert server.scalar("SELECT COUNT(*) FROM VENTAS;", path) == "0"
    assert not list(dest.glob("*_antes_de_restaurar_*"))

    wait_until(lambda: firebird_attachments(server, path) == 0)
    replaced = db_restore_cli(result.archive, db.label, cfg_path, "--replace")
    assert replaced.returncode == 0, replaced.stderr
    assert server.scalar("SELECT COUNT(*) FROM VENTAS;", path) == "500"
    assert server.scalar("SELECT COUNT(*) FROM VENTA_LINEAS;", path) == "1500"
    [safety] = dest.glob(f"{db.label}_antes_de_restaurar_*.fbk")
    assert str(safety) in replaced.stdout
    # The safety dump holds the data from before (no sales): it loads, and it is what was there.
    before = Path(str(path).replace(".FDB", "_ANTES.FDB"))
    loaded = subprocess.run(["gbak", "-c", "-user", "SYSDBA", "-se", f"127.0.0.1/{server.port}:service_mgr",
                             str(safety), str(before)], env=server.client_env(), capture_output=True, text=True,
                            timeout=120, check=False)
    assert loaded.returncode == 0, loaded.stderr
    assert server.scalar("SELECT COUNT(*) FROM VENTAS;", before) == "0"
    assert server.scalar("SELECT COUNT(*) FROM PRODUCTOS;", before) == "2000"


def test_firebird_replace_is_refused_when_the_user_cannot_see_other_attachments_or_isql_is_missing(
        firebird_server, db_keyring, dest, tmp_path, monkeypatch):
    server = firebird_server
    path = make_firebird_shop(server, unique("CAJERO") + ".FDB", sales=20)
    db = server.source(path)
    servers.set_password(db, server.password)
    result = backup.run_backup(make_config(dest, db))
    assert result.status == "ok", result.message
    server.isql("CREATE OR ALTER USER CAJERO PASSWORD 'caja1';\nCOMMIT;\n", path)
    cajero = server.source(path, user="CAJERO")
    servers.set_password(cajero, "caja1")
    pos = subprocess.Popen(["isql-fb", "-q", server.target(path)], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, env=server.client_env())  # the POS, as SYSDBA
    try:
        wait_until(lambda: firebird_attachments(server, path) > 0)
        with pytest.raises(servers.ConnectionsUnknown) as unknown:
            servers.restore_dump(result.archive, cajero, replace=True, safety_folder=dest)
    finally:
        pos.stdin.close()
        pos.wait(timeout=30)
    assert str(unknown.value) == (
        f"No se pudo comprobar si el punto de venta sigue conectado a la base de datos {db.label}: el usuario CAJERO "
        "solo puede ver sus propias conexiones. Para reemplazarla, pon en user de la configuración un usuario que "
        f"las vea todas (SYSDBA o el dueño de la base de datos) y guarda su contraseña con: respaldos db password "
        f"{db.label}. O restáurala como base de datos nueva (sin --replace): la original no se toca.")

    tools = tmp_path / "firebird" / "bin"  # gbak without isql next to it, and no isql-fb on PATH
    tools.mkdir(parents=True)
    os.symlink(shutil.which("gbak"), tools / "gbak")
    db.client = str(tools)
    with monkeypatch.context() as m, pytest.raises(servers.ConnectionsUnknown) as no_isql:
        m.setenv("PATH", str(tmp_path / "nada"))
        servers.restore_dump(result.archive, db, replace=True, safety_folder=dest)
    assert str(no_isql.value).startswith(
        f"No se pudo comprobar si el punto de venta sigue conectado a la base de datos {db.label}: no se encontró el "
        "programa isql para preguntárselo al servidor.")
    assert not list(dest.glob("*_antes_de_restaurar_*")), "refused before the safety dump"
    assert server.scalar("SELECT COUNT(*) FROM VENTAS;", path) == "20"


def test_db_test_reports_each_database_and_fails_when_one_cannot_be_reached(
        mariadb_server, firebird_server, db_keyring, dest, tmp_path):
    name = unique("prueba")
    make_mysql_shop(mariadb_server, name, sales=10)
    fb = firebird_server.source(make_firebird_shop(firebird_server, unique("PRUEBA") + ".FDB", sales=10), name="caja")
    mysql = mariadb_server.source(name)
    servers.set_password(mysql, mariadb_server.password)
    servers.set_password(fb, firebird_server.password)
    cfg_path = tmp_path / "respaldos.toml"
    config.save(make_config(dest, mysql, fb), cfg_path)
    ok = subprocess.run(respaldos_cmd("db", "test", "--config", str(cfg_path)), capture_output=True, text=True,
                        cwd=ROOT, timeout=120, check=False)
    assert ok.returncode == 0, ok.stderr
    assert re.search(rf"^{name}: Conexión correcta con MySQL/MariaDB 10\.\S+ en 127\.0\.0\.1:{mariadb_server.port}\.",
                     ok.stdout, re.MULTILINE)
    assert re.search(r"^caja: Conexión correcta con Firebird 3\.\S+ en ", ok.stdout, re.MULTILINE)
    servers.set_password(fb, "mala")
    bad = subprocess.run(respaldos_cmd("db", "test", "caja", "--config", str(cfg_path)), capture_output=True,
                         text=True, cwd=ROOT, timeout=120, check=False)
    assert bad.returncode == 1 and bad.stderr.startswith("caja: El servidor Firebird rechazó el usuario SYSDBA")
    unknown = subprocess.run(respaldos_cmd("db", "test", "otra", "--config", str(cfg_path)), capture_output=True,
                             text=True, cwd=ROOT, timeout=120, check=False)
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == f"No hay ninguna base de datos llamada otra en la configuración (hay: {name}, caja)."


# -- the config ----------------------------------------------------------------------------------------------

def test_a_config_with_databases_only_is_valid_and_round_trips(tmp_path):
    path = tmp_path / "respaldos.toml"
    path.write_text("""
[source]
[[source.databases]]
engine = "mysql"
host = "localhost"
database = "sicar"
user = "root"
[[source.databases]]
engine = "firebird"
host = "servidor-caja"
port = 3051
path = 'C:\\SICAR\\DATOS.FDB'
client = 'C:\\Program Files\\Firebird\\Firebird_3_0'
[destination]
folder = "/respaldos"
""", encoding="utf-8")
    cfg = config.load(path)
    assert cfg.source.paths == []
    mysql, fb = cfg.source.databases
    assert (mysql.label, mysql.effective_port, mysql.effective_user) == ("sicar", 3306, "root")
    assert (fb.label, fb.effective_port, fb.effective_user) == ("DATOS", 3051, "SYSDBA")
    config.save(cfg, path)
    assert config.load(path) == cfg
    text = path.read_text(encoding="utf-8")
    assert "[[source.databases]]" in text and "password" not in text


def test_every_problem_in_the_databases_is_reported_with_its_key_path(tmp_path):
    path = tmp_path / "respaldos.toml"
    path.write_text("""
[source]
paths = []
[[source.databases]]
engine = "postgres"
database = "x"
[[source.databases]]
engine = "mysql"
password = "no-va-aqui"
port = 70000
[[source.databases]]
engine = "firebird"
database = "sicar"
[[source.databases]]
engine = "mysql"
database = "sicar"
host = ""
colour = "azul"
[[source.databases]]
engine = "mysql"
database = "SICAR"
[destination]
folder = "/respaldos"
""", encoding="utf-8")
    done = subprocess.run(respaldos_cmd("backup", "--config", str(path)), capture_output=True, text=True, cwd=ROOT,
                          timeout=60, check=False)
    assert done.returncode == 2
    assert done.stderr.splitlines()[1:-1] == [
        '  source.databases[0].engine: "postgres" no es válido (usa "mysql" o "firebird")',
        ('  source.databases[1].password: la contraseña no va en la configuración: guárdala con "respaldos db '
         'password NOMBRE" o desde la ventana'),
        "  source.databases[1].port: 70000 no es un puerto válido (un número de 1 a 65535)",
        "  source.databases[1].database: falta el nombre de la base de datos",
        "  source.databases[2].path: falta la ruta del archivo de la base de datos en el servidor (o su alias)",
        '  source.databases[2].database: con engine = "firebird" indica la ruta del archivo en path, no en database',
        "  source.databases[3].colour: clave desconocida",
        '  source.databases[3].host: indica el equipo del servidor, por ejemplo "localhost"',
        '  source.databases[4].name: "SICAR" ya es el nombre de source.databases[3]; pon otro en name',
    ]
    assert "no-va-aqui" not in done.stderr
    assert "Traceback" not in done.stderr


def test_an_empty_source_is_still_refused(tmp_path):
    problems = config.validate_dict({"source": {"paths": [], "databases": []}, "destination": {"folder": "/r"}})
    assert [str(p) for p in problems] == ["source.paths: la lista está vacía: indica al menos una carpeta o archivo"]
    problems = config.validate_dict({"source": {"databases": {"engine": "mysql"}}, "destination": {"folder": "/r"}})
    assert [p.key for p in problems] == ["source.databases", "source.paths"]


def test_restoring_files_to_their_places_leaves_the_database_dumps_to_db_restore(mariadb_server, db_keyring, dest,
                                                                                  tmp_path):
    from wizard.core import restore

    data = tmp_path / "datos"
    data.mkdir()
    (data / "ticket.xml").write_text("<ticket>1</ticket>", encoding="utf-8")
    name = unique("mixto")
    make_mysql_shop(mariadb_server, name, sales=10)
    db = mariadb_server.source(name)
    servers.set_password(db, mariadb_server.password)
    cfg = make_config(dest, db, paths_=[data])
    result = backup.run_backup(cfg)
    assert result.status == "ok", result.message
    (data / "ticket.xml").write_text("<ticket>2</ticket>", encoding="utf-8")
    restore.restore_to_original(result.archive, cfg)
    assert (data / "ticket.xml").read_text(encoding="utf-8") == "<ticket>1</ticket>"
    assert sorted(p.name for p in data.iterdir()) == ["ticket.xml"]
