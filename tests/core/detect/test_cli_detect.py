"""``respaldos detect`` run for real: the JSON shape, the list in words, unreadable folders, the budget."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

from tests.core.detect.conftest import ACCESS_ACE, make_sqlite
from tests.core.test_cli import python_env
from tests.helpers import ROOT, respaldos_cmd, skip_unless_ci, without_dac_override

KEYS = {"kind", "path", "host", "port", "database", "program", "size", "modified"}


def detect_cli(*args: str, wrap=None, stdin: str | None = None) -> subprocess.CompletedProcess:
    cmd = respaldos_cmd("detect", "--no-servers", *args)
    if wrap is not None:
        cmd = wrap(cmd)
    return subprocess.run(cmd, check=False, capture_output=True, text=True, encoding="utf-8", cwd=ROOT,
                          env=python_env(), timeout=120, input=stdin)


def test_json_is_one_object_with_the_documented_shape(tmp_path):
    db = make_sqlite(tmp_path / "Tienda" / "ventas.bin")
    (tmp_path / "Tienda" / "viejo.accdb").write_bytes(ACCESS_ACE)
    done = detect_cli("--roots", str(tmp_path), "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)  # exactly one object: anything else on stdout would not parse
    assert set(data) == {"found", "skipped", "seconds"}
    assert isinstance(data["seconds"], (int, float)) and data["skipped"] == []
    assert all(set(item) == KEYS for item in data["found"])
    by_path = {item["path"]: item for item in data["found"]}
    assert by_path[str(db)]["kind"] == "sqlite" and by_path[str(db)]["size"] == db.stat().st_size
    assert by_path[str(tmp_path / "Tienda" / "viejo.accdb")]["kind"] == "access"
    assert by_path[str(db)]["modified"][:4].isdigit() and "T" in by_path[str(db)]["modified"]
    assert {item["host"] for item in data["found"]} == {None}


def test_in_words_it_says_what_where_how_big_and_when_and_warns_about_access(tmp_path):
    make_sqlite(tmp_path / "caja.dat")
    (tmp_path / "clientes.mdb").write_bytes(ACCESS_ACE)
    done = detect_cli("--roots", str(tmp_path))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert f"Base de datos SQLite: {tmp_path / 'caja.dat'}" in out
    assert "modificada hace menos de un minuto" in out and "KB" in out
    assert f"Archivo de Microsoft Access: {tmp_path / 'clientes.mdb'}" in out
    assert "copie estos archivos con el punto de venta cerrado" in out


def test_unreadable_folders_are_skipped_and_listed(tmp_path):
    if not shutil.which("setpriv"):
        skip_unless_ci("setpriv is not installed (util-linux)")
    make_sqlite(tmp_path / "abierta" / "ventas.db")
    make_sqlite(tmp_path / "cerrada" / "secreta.db")
    (tmp_path / "cerrada").chmod(0)
    try:
        done = detect_cli("--roots", str(tmp_path), "--json", wrap=without_dac_override)
        words = detect_cli("--roots", str(tmp_path), wrap=without_dac_override)
    finally:
        (tmp_path / "cerrada").chmod(0o755)
    if os.geteuid() == 0 and "Operation not permitted" in done.stderr:
        skip_unless_ci("setpriv cannot drop capabilities here")
    data = json.loads(done.stdout)
    assert [item["path"] for item in data["found"]] == [str(tmp_path / "abierta" / "ventas.db")]
    assert data["skipped"] == [str(tmp_path / "cerrada")]
    assert "No se pudo entrar en 1 carpeta:" in words.stdout and str(tmp_path / "cerrada") in words.stdout


def test_a_budget_of_zero_says_which_folders_were_not_covered(tmp_path):
    make_sqlite(tmp_path / "a" / "ventas.db")
    done = detect_cli("--roots", str(tmp_path / "a"), "--budget", "0")
    assert done.returncode == 0, done.stderr
    assert "Se acabó el tiempo de búsqueda" in done.stdout and "Faltó revisar 1 carpeta:" in done.stdout
    assert str(tmp_path / "a") in done.stdout and "--budget SEGUNDOS" in done.stdout
    data = json.loads(detect_cli("--roots", str(tmp_path / "a"), "--budget", "0", "--json").stdout)
    assert data["found"] == [] and data["skipped"] == [str(tmp_path / "a")]


def test_a_negative_budget_is_bad_usage(tmp_path):
    done = detect_cli("--roots", str(tmp_path), "--budget", "-1")
    assert done.returncode == 2 and "--budget" in done.stderr
