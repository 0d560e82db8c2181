"""``respaldos test-restore`` in a real subprocess: the JSON, the words, the exit codes, and what a kill or a
SIGTERM in the middle of a drill leaves behind (nothing, once the next drill ran)."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest

from tests.core.drill.helpers import counts, flip_byte_inside, make_shop, member_of
from tests.helpers import ROOT, respaldos_cmd
from wizard.core import history
from wizard.core.drill.sandbox import sandboxes_dir


def drill_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(respaldos_cmd("test-restore", *args), capture_output=True, text=True, cwd=ROOT,
                          timeout=timeout, check=False)


def sandboxes() -> list[str]:
    folder = sandboxes_dir()
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_json_prints_exactly_one_object_and_exits_0(tmp_path):
    shop = make_shop(tmp_path)

    done = drill_cli("--config", str(shop.config_path), "--json")

    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert done.stdout.count("\n") == 1
    assert list(data) == ["archive", "ok", "seconds", "problem", "databases"]
    assert data["archive"] == shop.archive.name and data["ok"] is True and data["problem"] is None
    assert isinstance(data["seconds"], float)
    (db,) = data["databases"]
    assert db == {"path": member_of(shop.archive, "punto_de_venta.db"), "kind": "sqlite", "integrity": "ok",
                  "tables": counts(shop.db), "newest": "2026-11-30T19:42:05"}


def test_the_report_in_words_names_the_backup_and_its_sales(tmp_path):
    shop = make_shop(tmp_path)

    done = drill_cli(str(shop.archive), "--config", str(shop.config_path))

    assert done.returncode == 0, done.stderr
    first, line = done.stdout.splitlines()
    assert first.startswith("El respaldo de hoy a las ") and "400 ventas, último movimiento del " in first
    assert line == f"  {member_of(shop.archive, 'punto_de_venta.db')} (sqlite): correcta, 4 tablas, 1,680 filas"


def test_a_damaged_backup_exits_1_naming_the_archive_and_the_member(tmp_path):
    shop = make_shop(tmp_path)
    member = member_of(shop.archive, "punto_de_venta.db")
    flip_byte_inside(shop.archive, member)

    done = drill_cli("--config", str(shop.config_path))
    as_json = drill_cli("--config", str(shop.config_path), "--json")

    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith(f"El respaldo {shop.archive.name} está dañado: {member} ")
    assert as_json.returncode == 1
    data = json.loads(as_json.stdout)
    assert data["ok"] is False and data["problem"] == done.stderr.splitlines()[0]


def test_bad_usage_exits_2(tmp_path):
    shop = make_shop(tmp_path)

    both = drill_cli(str(shop.archive), "--from-cloud", shop.archive.name, "--config", str(shop.config_path))
    missing = drill_cli(str(tmp_path / "no.zip"), "--config", str(shop.config_path))

    assert both.returncode == 2 and both.stdout == ""
    assert "indica un ARCHIVO o --from-cloud NOMBRE, no los dos" in both.stderr
    assert missing.returncode == 1 and missing.stderr.strip() == f"No se encontró el respaldo {tmp_path / 'no.zip'}."
    assert [e.trigger for e in history.read()] == ["manual"], "no drill was recorded"


def test_from_cloud_without_a_backup_name_or_without_a_cloud_is_said_and_not_recorded(tmp_path):
    shop = make_shop(tmp_path)

    not_a_name = drill_cli("--from-cloud", "ventas.zip", "--config", str(shop.config_path))
    no_cloud = drill_cli("--from-cloud", shop.archive.name, "--config", str(shop.config_path))

    assert not_a_name.returncode == 2
    assert not_a_name.stderr.strip() == ("«ventas.zip» no es el nombre de un respaldo "
                                         "(respaldo_AAAA-MM-DD_HH-MM-SS.zip).")
    assert no_cloud.returncode == 1 and no_cloud.stderr.startswith("No hay ninguna nube configurada.")
    assert [e.trigger for e in history.read()] == ["manual"]


def test_with_no_backup_to_test_json_still_prints_one_object(tmp_path):
    shop = make_shop(tmp_path)
    shop.archive.unlink()

    done = drill_cli("--config", str(shop.config_path), "--json")

    assert done.returncode == 1
    problem = f"No hay respaldos de este equipo en {shop.usb} para probar. Haz un respaldo primero."
    assert json.loads(done.stdout) == {"archive": None, "ok": False, "seconds": 0.0, "problem": problem,
                                       "databases": []}
    assert done.stderr.strip() == problem


def start_and_catch_mid_drill(shop) -> subprocess.Popen:
    """Start a drill and return once its sandbox holds the database being extracted."""
    proc = subprocess.Popen(respaldos_cmd("test-restore", "--config", str(shop.config_path)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    deadline = time.monotonic() + 60
    while not any(sandboxes_dir().glob("prueba-*/base-*.sqlite")) if sandboxes_dir().exists() else True:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the drill never started extracting"
        time.sleep(0.002)
    return proc


@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_a_kill_or_a_sigterm_mid_drill_leaves_no_sandbox_after_the_next_run(tmp_path, how):
    shop = make_shop(tmp_path, sales=60_000)
    proc = start_and_catch_mid_drill(shop)

    proc.send_signal(getattr(signal, how))
    _out, err = proc.communicate(timeout=60)

    if how == "SIGTERM":  # stopped cleanly: said, recorded, and nothing left
        assert proc.returncode == 1
        assert err.strip() == f"La prueba del respaldo {shop.archive.name} se canceló antes de terminar."
        assert sandboxes() == [] and history.read()[-1].status == "cancelled"
    else:
        assert proc.returncode == -signal.SIGKILL and len(sandboxes()) == 1
    again = drill_cli("--config", str(shop.config_path), "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["databases"][0]["tables"]["ventas"] == 60_000
    assert sandboxes() == []
