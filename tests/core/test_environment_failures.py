"""A backup whose disk or folder fails says so in a sentence (wizard.core.oserrors), on real filesystems.

Each fault is the kernel's own (tests/faults.py): a user without write permission, a read-only mount, a
loop device cut short (EIO), a mount taken away mid-write (ENOENT), a FUSE daemon killed mid-write
(ENOTCONN), a path past the system's limit, too many open files. In every case: the run fails with the
sentence, nothing half-written keeps a final name, older backups are untouched, the history records the
sentence and the log has the errno with its traceback.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests import faults
from tests.faults import as_user, mounted, need_root, shared_folder, unmount_lazily
from tests.helpers import ROOT, respaldos_cmd, without_dac_override, write_config
from wizard.core import backup, config, history, oserrors
from wizard.core.logsetup import log_file

# the fixtures of tests/faults.py this module uses
test_user, failing_disk, network_folder = faults.test_user, faults.failing_disk, faults.network_folder

NOTHING_SAVED = "No se guardó nada y los respaldos anteriores siguen intactos."


def make_config(sources, dest) -> config.Config:
    cfg = config.Config()
    cfg.source.paths = [str(s) for s in sources]
    cfg.destination.folder = str(dest)
    return cfg


def pos_folder(parent: Path, size: int = 3 << 20) -> Path:
    """Data to back up: a few MiB that do not compress, so the archive takes several chunks."""
    data = parent / "datos"
    data.mkdir()
    (data / "ventas.bin").write_bytes(os.urandom(size))
    (data / "nota.txt").write_text("caja 1")
    return data


def archives(folder: Path) -> dict[str, bytes]:
    """Every file in ``folder`` by name, with its bytes (final names and anything half-written alike)."""
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def assert_failed_cleanly(result, sentence: str, dest: Path, before: dict[str, bytes], caplog=None,
                          errno_name: str = "") -> None:
    assert result.status == "failed", result.message
    assert result.message.startswith(sentence), result.message
    assert result.message.endswith(NOTHING_SAVED)
    # nothing new under a final name (a .part may stay where the folder was lost), older ones byte for byte
    after = archives(dest)
    assert {n for n in after if not n.endswith(".part")} == set(before)
    assert all(after[name] == data for name, data in before.items())
    assert history.read()[-1].message == result.message
    if caplog is not None:
        [record] = [r for r in caplog.records if r.name == "wizard.core.oserrors"]
        assert f"[{errno_name}]" in record.getMessage() and record.exc_info is not None


def first_backup(data: Path, dest: Path) -> dict[str, bytes]:
    first = backup.run_backup(make_config([data], dest))
    assert first.status == "ok", first.message
    return archives(dest)


@pytest.mark.root  # mounts, loop devices, another user: see tests/faults.py
def test_a_destination_this_user_may_not_write_to_is_named_with_what_to_do(test_user):
    work = shared_folder("respaldos-permiso-")
    try:
        data = pos_folder(work)
        dest = work / "Respaldos"
        dest.mkdir()  # root's, 0755: the shop's user may read it, not write in it
        home = work / "home"
        home.mkdir()
        os.chown(home, *test_user)
        env = {**os.environ, **{var: str(home / var.lower()) for var in
                                ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME")}}
        before = first_backup(data, dest)
        cfg = write_config(work / "respaldos.toml", [data], dest)

        proc = subprocess.run(as_user(test_user, respaldos_cmd("backup", "--config", str(cfg))), cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=120, check=False)

        sentence = (f"No se puede escribir en {dest}: este usuario de la computadora no tiene permiso para guardar "
                    f"ahí. Pide a quien administra la computadora que te dé permiso en esa carpeta, o elige otra "
                    f"carpeta de destino. {NOTHING_SAVED}")
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert sentence in proc.stderr
        assert archives(dest) == before
        os.environ.update({k: env[k] for k in ("XDG_DATA_HOME", "XDG_STATE_HOME")})
        assert history.read()[-1].message == sentence
        log = log_file().read_text(encoding="utf-8")
        assert "[EACCES]" in log and "Traceback" in log and "Permission denied" in log
    finally:
        subprocess.run(["rm", "-rf", str(work)], check=False)


@pytest.mark.root  # mounts, loop devices, another user: see tests/faults.py
def test_a_source_folder_that_cannot_be_opened_fails_the_run_naming_it(tmp_path, test_user):
    data = pos_folder(tmp_path)
    os.chown(data, *test_user)
    data.chmod(0o700)  # another user's folder: root without its DAC capabilities may not list it
    dest = tmp_path / "Respaldos"
    dest.mkdir()
    cfg = write_config(tmp_path / "respaldos.toml", [data], dest)

    proc = subprocess.run(without_dac_override(respaldos_cmd("backup", "--config", str(cfg))), cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)

    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stderr.strip() == (
        f"No se puede leer {data}: este usuario de la computadora no tiene permiso para abrirlo. Pide a quien "
        f"administra la computadora que te dé permiso de lectura. {NOTHING_SAVED}")
    assert list(dest.iterdir()) == []
    assert history.read()[-1].status == "failed"


@pytest.mark.root  # mounts, loop devices, another user: see tests/faults.py
def test_a_write_protected_usb_memory_is_said_so_and_its_backups_stay(tmp_path, caplog):
    data = pos_folder(tmp_path)
    usb = tmp_path / "KINGSTON"
    usb.mkdir()
    with mounted("a tmpfs", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(usb)):
        before = first_backup(data, usb)
        subprocess.run(["mount", "-o", "remount,ro", str(usb)], check=True)  # the switch on the memory
        caplog.set_level(logging.INFO)

        result = backup.run_backup(make_config([data], usb))

        assert_failed_cleanly(
            result, f"No se puede escribir en {usb}: es de solo lectura, como una memoria USB con la protección "
                    "contra escritura puesta. Quita la protección (el interruptor en el costado de la memoria) o "
                    "elige otra carpeta de destino.", usb, before, caplog, "EROFS")
        assert not result.destination_missing


@pytest.mark.root  # mounts, loop devices, another user: see tests/faults.py
def test_a_failing_disk_at_the_destination_is_said_so_and_the_older_backup_stays(tmp_path, failing_disk, caplog):
    data = pos_folder(tmp_path, size=2 << 20)
    dest = failing_disk.mount / "Respaldos"
    dest.mkdir()
    before = first_backup(data, dest)  # in the disk's healthy part
    failing_disk.fill()
    failing_disk.fail()
    caplog.set_level(logging.INFO)

    result = backup.run_backup(make_config([data], dest))

    assert_failed_cleanly(
        result, f"No se pudo escribir en {dest}: el disco o la memoria podría estar dañado (error de "
                "entrada/salida). Revisa ese disco con la comprobación de errores y, mientras tanto, elige otra "
                "carpeta de destino.", dest, before, caplog, "EIO")


@pytest.mark.root  # mounts, loop devices, another user: see tests/faults.py
def test_a_source_file_on_a_failing_disk_is_named_and_the_rest_is_backed_up(tmp_path, failing_disk):
    data = failing_disk.mount / "datos"
    data.mkdir()
    (data / "catalogo.txt").write_text("sano")  # in the healthy part
    failing_disk.fill()
    (data / "ventas.bin").write_bytes(os.urandom(1 << 20))  # past the cut
    failing_disk.fail()
    dest = tmp_path / "Respaldos"
    dest.mkdir()

    result = backup.run_backup(make_config([data], dest))

    assert result.status == "warning", result.message
    assert result.warnings == [(
        f"No se pudo leer {data / 'ventas.bin'}: el disco o la memoria podría estar dañado (error de "
        "entrada/salida). Copia cuanto antes lo que puedas de ese disco a otro y revísalo con la comprobación de "
        "errores. No se respaldó ese archivo.")]
    names = zipfile.ZipFile(result.archive).namelist()
    assert "datos/catalogo.txt" in names and "datos/ventas.bin" not in names
    assert result.warnings[0] in history.read()[-1].message


def unmount_at_first_chunk(mount: Path, take_away):
    """A progress callback that takes the destination away once the archive is being written."""
    done = []

    def report(event) -> None:
        if not done and getattr(event, "phase", "") == "compress":
            done.append(True)
            take_away()

    return report, done


@pytest.mark.root  # mounts, loop devices, another user: see tests/faults.py
def test_a_destination_unmounted_mid_write_is_lost_connection_and_no_final_name_appears(tmp_path, caplog):
    need_root("a bind mount")
    data = pos_folder(tmp_path)
    disk = tmp_path / "disco"  # what the folder really is; the mount below is how the backup reaches it
    disk.mkdir()
    dest = tmp_path / "Respaldos"
    dest.mkdir()
    with mounted("a bind mount", "--bind", str(disk), str(dest)):
        before = first_backup(data, dest)
        report, done = unmount_at_first_chunk(dest, lambda: unmount_lazily(dest))
        caplog.set_level(logging.INFO)

        result = backup.run_backup(make_config([data], dest), report=report)

    assert done
    assert_failed_cleanly(
        result, f"Se perdió la conexión con {dest}: se desconectó la memoria USB o el disco, o se cayó la red de "
                "esa carpeta compartida. Conéctala de nuevo (o revisa la red) y vuelve a intentar.", disk, before,
        caplog, "ENOENT")
    assert result.destination_missing
    # the half-written archive kept its .part name on the disk; the next backup there removes it
    assert [n for n in archives(disk) if n.endswith(".part")]
    again = backup.run_backup(make_config([data], disk))
    assert again.status == "ok" and not [n for n in archives(disk) if n.endswith(".part")]


@pytest.mark.root  # mounts, loop devices, another user: see tests/faults.py
def test_a_network_folder_whose_server_goes_away_mid_write_is_lost_connection(tmp_path, network_folder, caplog):
    data = pos_folder(tmp_path)
    dest = network_folder.mount
    before = first_backup(data, dest)
    report, done = unmount_at_first_chunk(dest, network_folder.kill)
    caplog.set_level(logging.INFO)

    result = backup.run_backup(make_config([data], dest), report=report)

    assert done
    assert result.status == "failed" and result.destination_missing
    assert result.message == (
        f"Se perdió la conexión con {dest}: se desconectó la memoria USB o el disco, o se cayó la red de esa "
        f"carpeta compartida. Conéctala de nuevo (o revisa la red) y vuelve a intentar. {NOTHING_SAVED}")
    assert history.read()[-1].message == result.message
    [record] = [r for r in caplog.records if r.name == "wizard.core.oserrors"]
    assert "[ENOTCONN]" in record.getMessage() and record.exc_info is not None
    # the server's folder: the older backup as it was, nothing new under a final name
    kept = archives(network_folder.real)
    assert {n for n in kept if not n.endswith(".part")} == set(before)
    assert all(kept[n] == before[n] for n in before)


def long_folder(base: Path, length: int) -> Path:
    """A real folder whose path is ``length`` characters long (under the system's 4096)."""
    path = base
    while len(str(path)) < length:
        path = path / ("carpeta_" + "x" * min(240, length - len(str(path)) - 10))
    path.mkdir(parents=True)
    return path


def test_a_destination_path_too_long_for_the_system_asks_for_a_shorter_one(tmp_path, caplog):
    data = pos_folder(tmp_path, size=1000)
    dest = long_folder(tmp_path / "r", 4070)  # the archive's name would take it past 4096
    caplog.set_level(logging.INFO)

    result = backup.run_backup(make_config([data], dest))

    assert_failed_cleanly(
        result, f"La ruta {dest} es demasiado larga para el sistema. Elige una carpeta de destino con una ruta más "
                "corta, por ejemplo E:\\Respaldos.", dest, {}, caplog, "ENAMETOOLONG")


EMFILE_RUN = """
import json, os, resource, sys
from wizard.core import backup, config
from wizard.core.logsetup import setup_logging

setup_logging()
cfg = config.load(sys.argv[1])
first = backup.run_backup(cfg)  # every module a run needs is imported now
assert first.status == "ok", first.message
# Fill every free number below the highest open one, then allow exactly two more open files: the run's lock
# and its archive get them, the next file it opens does not.
top = max(int(n) for n in os.listdir("/proc/self/fd"))
held = [os.open(os.devnull, os.O_RDONLY)]
while held[-1] < top:
    held.append(os.open(os.devnull, os.O_RDONLY))
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (held[-1] + 3, hard))
result = backup.run_backup(cfg)
resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
print(json.dumps({"status": result.status, "message": result.message, "first": first.archive.name}))
"""


def test_too_many_open_files_fails_the_run_with_what_to_do(tmp_path):
    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc/self/fd (Linux)")
    data = pos_folder(tmp_path, size=1000)
    dest = tmp_path / "Respaldos"
    dest.mkdir()
    cfg = write_config(tmp_path / "respaldos.toml", [data], dest)

    proc = subprocess.run([sys.executable, "-c", EMFILE_RUN, str(cfg)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=False)

    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["status"] == "failed"
    assert out["message"].startswith("Hay demasiados archivos abiertos en esta computadora y no se pudo abrir ")
    assert "Cierra otros programas y vuelve a intentar; si vuelve a pasar, reinicia la computadora." in out["message"]
    assert out["message"].endswith(NOTHING_SAVED)
    assert sorted(p.name for p in dest.iterdir()) == [out["first"]]
    assert history.read()[-1].message == out["message"]
    assert "[EMFILE]" in log_file().read_text(encoding="utf-8")


@pytest.mark.parametrize(("errno_name", "kind"), [
    ("EACCES", oserrors.PERMISSION), ("EPERM", oserrors.PERMISSION), ("EROFS", oserrors.READ_ONLY),
    ("EIO", oserrors.DAMAGED), ("ESTALE", oserrors.GONE), ("EHOSTDOWN", oserrors.GONE),
    ("ENAMETOOLONG", oserrors.NAME_TOO_LONG), ("EMFILE", oserrors.TOO_MANY_FILES), ("ENOSPC", oserrors.FULL)])
def test_each_error_number_has_its_sentence_for_every_action(tmp_path, errno_name, kind):
    """The table itself, for the errors no filesystem here can produce on demand (ESTALE, EHOSTDOWN come
    from NFS and SMB): every action gets a sentence naming the place, none of them a bare errno."""
    import errno

    folder = tmp_path / "Respaldos"
    for action in oserrors.ACTIONS:
        path = folder if action in oserrors.WRITING else folder / "respaldo.zip"
        problem = oserrors.plain_os_error(OSError(getattr(errno, errno_name), os.strerror(getattr(errno, errno_name))),
                                          path, action)
        assert problem is not None and problem.kind == kind
        assert str(folder) in str(problem) and errno_name not in str(problem)
        assert str(problem).endswith(".")


def test_a_file_deleted_since_the_scan_is_not_a_lost_folder(tmp_path):
    import errno

    source = tmp_path / "datos" / "temporal.tmp"
    source.parent.mkdir()
    gone = FileNotFoundError(errno.ENOENT, "No such file or directory", str(source))
    assert oserrors.plain_os_error(gone, source, oserrors.SOURCE) is None
    assert oserrors.plain_os_error(OSError(errno.ECONNREFUSED, "refused"), tmp_path, oserrors.DOWNLOAD) is None


def windows_error(code: int, winerror: int, filename: Path | None = None, filename2: Path | None = None) -> OSError:
    """An OSError as Python raises it on Windows (the winerror it carries there is set by hand here)."""
    exc = OSError(code, "", None if filename is None else str(filename), None,
                  None if filename2 is None else str(filename2))
    exc.winerror = winerror
    return exc


def test_windows_codes_the_errno_folds_together_keep_their_own_sentence(tmp_path):
    """On Windows a write-protected disk, a pulled-out memory and a file another program holds come as
    EACCES or ENOENT; their winerror tells them apart. (They run for real only in the Windows job.)"""
    import errno

    folder = tmp_path / "datos"
    folder.mkdir()
    invoice, beside = folder / "F1001.xml", folder / ".F1001.xml.restaurando"
    invoice.write_text("en uso")
    beside.write_text("restaurado")
    kinds = {
        (errno.EACCES, 19): oserrors.READ_ONLY,  # ERROR_WRITE_PROTECT
        (errno.ENOENT, 21): oserrors.GONE,  # ERROR_NOT_READY: the memory is gone, though the path "exists"
        (errno.EINVAL, 23): oserrors.DAMAGED,  # ERROR_CRC
        (errno.EACCES, 5): oserrors.PERMISSION,
    }
    for (code, winerror), kind in kinds.items():
        problem = oserrors.plain_os_error(windows_error(code, winerror), folder, oserrors.RESTORE)
        assert problem is not None and problem.kind == kind, (winerror, problem)
    # replacing the invoice another program has open: a sharing violation, or "access denied" although the
    # restored copy was just written beside it; the sentence names the invoice, not the temporary file
    for winerror in (32, 5):
        problem = oserrors.plain_os_error(windows_error(errno.EACCES, winerror, beside, invoice), folder,
                                          oserrors.RESTORE)
        assert problem is not None and problem.kind == oserrors.IN_USE
        assert str(problem) == (f"{invoice} está abierto en otro programa (quizá el antivirus o el punto de venta). "
                                "Ciérralo y vuelve a intentar.")
