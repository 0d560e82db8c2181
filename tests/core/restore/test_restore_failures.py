"""A restore whose disk or folder fails says so in a sentence (wizard.core.oserrors), on real filesystems:
a read-only mount, a loop device cut short (EIO) under the folder written to or under the backup read, a
path past the system's limit. Nothing half-written takes a file's name."""

from __future__ import annotations

import os
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests import faults
from tests.faults import mounted
from wizard.core import restore
from wizard.core.backup import run_backup
from wizard.core.config import Config, DestinationConfig, SourceConfig
from wizard.core.oserrors import EnvironmentProblem

failing_disk = faults.failing_disk  # a fixture of tests/faults.py


def shop_files(data: Path) -> dict[str, bytes]:
    (data / "facturas").mkdir(parents=True, exist_ok=True)
    files = {"config.ini": b"impresora=EPSON\n", "facturas/F1001.xml": os.urandom(300_000),
             "catalogo.csv": os.urandom(200_000)}
    for rel, content in files.items():
        (data / rel).write_bytes(content)
    return files


def files_under(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def backed_up(data: Path, usb: Path) -> tuple[Config, Path]:
    config = Config(source=SourceConfig(paths=[str(data)]), destination=DestinationConfig(folder=str(usb)))
    result = run_backup(config)
    assert result.succeeded, result.message
    return config, result.archive


@pytest.mark.root  # mounts, loop devices, another user: see tests/faults.py
def test_restoring_in_place_onto_a_write_protected_folder_says_so_and_changes_nothing(tmp_path):
    data = tmp_path / "datos"
    data.mkdir()
    usb = tmp_path / "Respaldos"
    usb.mkdir()
    with mounted("a tmpfs", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(data)):
        shop_files(data)
        config, archive = backed_up(data, usb)
        (data / "config.ini").write_text("impresora=ZEBRA\n")
        today = files_under(data)
        subprocess.run(["mount", "-o", "remount,ro", str(data)], check=True)

        with pytest.raises(restore.RestoreFailed) as info:
            restore.restore_to_original(archive, config)

        assert str(info.value).startswith(
            f"No se puede escribir en {data}: es de solo lectura, como una memoria USB con la protección contra "
            "escritura puesta. Quita la protección (el interruptor en el costado de la memoria) o restaura en otra "
            "carpeta. Se restauraron 0 de 3 archivos")
        assert f"respaldo de seguridad {info.value.safety_backup}" in str(info.value)
        assert files_under(data) == today


@pytest.mark.root  # mounts, loop devices, another user: see tests/faults.py
def test_restoring_into_a_folder_on_a_failing_disk_names_it_and_leaves_no_file(tmp_path, failing_disk):
    data = tmp_path / "datos"
    shop_files(data)
    usb = tmp_path / "Respaldos"
    usb.mkdir()
    _config, archive = backed_up(data, usb)
    failing_disk.fill()
    failing_disk.fail()
    target = failing_disk.mount / "Restaurado"

    with pytest.raises(EnvironmentProblem) as info:
        restore.restore_to_folder(archive, target)

    assert str(info.value) == (
        f"No se pudo escribir en {target}: el disco o la memoria podría estar dañado (error de entrada/salida). "
        "Revisa ese disco con la comprobación de errores y, mientras tanto, restaura en otra carpeta.")
    assert [p for p in target.rglob("*") if p.is_file()] == []


@pytest.mark.root  # mounts, loop devices, another user: see tests/faults.py
def test_a_backup_on_a_failing_disk_is_named_and_nothing_is_restored(tmp_path, failing_disk):
    data = tmp_path / "datos"
    shop_files(data)
    usb = failing_disk.mount / "Respaldos"
    usb.mkdir()
    failing_disk.fill()
    _config, archive = backed_up(data, usb)  # past the cut
    failing_disk.fail()
    target = tmp_path / "Restaurado"

    with pytest.raises(EnvironmentProblem) as info:
        restore.restore_to_folder(archive, target)

    assert str(info.value) == (
        f"No se pudo leer {archive}: el disco o la memoria podría estar dañado (error de entrada/salida). Copia "
        "cuanto antes lo que puedas de ese disco a otro y revísalo con la comprobación de errores. Si tienes otra "
        "copia de este respaldo (en otra memoria o en la nube), úsala.")
    assert not target.exists() or files_under(target) == {}


def test_restoring_into_a_folder_whose_path_is_too_long_asks_for_a_shorter_one(tmp_path):
    data = tmp_path / "datos"
    shop_files(data)
    usb = tmp_path / "Respaldos"
    usb.mkdir()
    _config, archive = backed_up(data, usb)
    target = tmp_path / "r"
    while len(str(target)) < 4075:  # a real folder; "datos/facturas/F1001.xml" takes it past 4096
        target = target / ("carpeta_" + "x" * min(240, 4075 - len(str(target)) - 10))
    target.mkdir(parents=True)

    with pytest.raises(EnvironmentProblem) as info:
        restore.restore_to_folder(archive, target)

    assert str(info.value) == (
        f"La ruta {target} es demasiado larga para el sistema. Restaura en una carpeta con una ruta más corta, por "
        "ejemplo C:\\Restaurado.")
    assert files_under(target) == {}


def test_a_file_with_a_name_near_the_limit_is_restored_in_place_and_into_a_folder(tmp_path):
    """Its temporary name beside it (".NAME.restaurando") would pass 255 characters: a shorter one is used."""
    data = tmp_path / "datos"
    data.mkdir()
    long_name = "f" * 250 + ".xml"
    (data / long_name).write_bytes(b"<factura/>")
    usb = tmp_path / "Respaldos"
    usb.mkdir()
    config, archive = backed_up(data, usb)
    assert f"datos/{long_name}" in zipfile.ZipFile(archive).namelist()

    restored = restore.restore_to_folder(archive, tmp_path / "Restaurado")
    assert files_under(tmp_path / "Restaurado") == {f"datos/{long_name}": b"<factura/>"}
    (data / long_name).write_bytes(b"<cambiada/>")
    report = restore.restore_to_original(archive, config)
    assert (data / long_name).read_bytes() == b"<factura/>"
    assert len(restored.restored) == len(report.restored) == 1
