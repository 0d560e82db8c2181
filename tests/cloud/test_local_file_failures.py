"""The cloud's local side, on real filesystems: a backup on a failing disk (EIO) stays pending with a
sentence naming it; a download onto a disk that fills up meanwhile (ENOSPC) says so and leaves nothing."""

from __future__ import annotations

import os

import pytest

from tests import faults
from tests.cloud.helpers import FOLDER, MiB, cloud_config, days_ago, make_archive
from tests.faults import mounted
from wizard.core import restore
from wizard.core.cloud.queue import after_backup, pending, status
from wizard.core.oserrors import EnvironmentProblem

failing_disk = faults.failing_disk  # a fixture of tests/faults.py


@pytest.mark.root  # mounts, loop devices, another user: see tests/faults.py
def test_a_backup_on_a_failing_disk_stays_pending_and_the_reason_names_it(dropbox_server, signed_in, failing_disk):
    dest = failing_disk.mount / "Respaldos"
    dest.mkdir()
    failing_disk.fill()
    archive = make_archive(dest, days_ago(0), 2 * MiB)  # past the cut
    config = cloud_config(dest)
    failing_disk.fail()

    outcome = after_backup(config, archive)

    sentence = (f"No se pudo leer {archive}: el disco o la memoria podría estar dañado (error de entrada/salida). "
                "Copia cuanto antes lo que puedas de ese disco a otro y revísalo con la comprobación de errores. Si "
                "tienes otra copia de este respaldo (en otra memoria o en la nube), úsala.")
    assert outcome.status == "pending" and outcome.reason == "local"
    assert outcome.message == f"Nube: 1 respaldo pendiente de subir. {sentence}"
    assert [p.name for p in pending(config)] == [archive.name]
    assert pending(config)[0].last_error == sentence
    assert status(config).last_error["message"] == sentence
    assert dropbox_server.names_in(FOLDER) == []


@pytest.mark.root  # mounts, loop devices, another user: see tests/faults.py
def test_a_download_onto_a_full_disk_says_so_and_leaves_nothing_under_its_name(dropbox_server, signed_in, tmp_path):
    source = make_archive(tmp_path / "subido", days_ago(1), 9 * MiB + 123)
    dropbox_server.put_file(f"{FOLDER}/{source.name}", source.read_bytes())
    folder = restore.downloads_dir()
    folder.mkdir(parents=True)
    config = cloud_config(tmp_path / "Respaldos")

    with mounted("a small tmpfs", "-t", "tmpfs", "-o", "size=12m", "tmpfs", str(folder)):
        def another_program_fills_the_disk(event) -> None:
            if not (folder / "otro.bin").exists():
                with open(folder / "otro.bin", "wb") as fh:
                    fh.write(b"\0" * (os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize))

        with pytest.raises(EnvironmentProblem) as info:
            restore.download_backup(config, source.name, report=another_program_fills_the_disk)

        assert str(info.value) == (
            f"No queda espacio en el disco de {folder}. Libera espacio en ese disco o pide ayuda a quien administra "
            "la computadora.")
        assert os.listdir(folder) == ["otro.bin"]
