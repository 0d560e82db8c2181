"""``respaldos password set`` and ``password sheet`` in a new process, the keyring shared through its file."""

from __future__ import annotations

import subprocess

from tests.helpers import ROOT, respaldos_cmd, write_config
from wizard.core.encryption import password as pw
from wizard.core.encryption import sheet
from wizard.core.logsetup import log_file

PASSWORD = 'Perro <azul> & "tacos" 42'


def run_cli(*args: str, stdin: str | None = "") -> subprocess.CompletedProcess:
    return subprocess.run(respaldos_cmd(*args), cwd=ROOT, input=stdin, capture_output=True, text=True,
                          timeout=120, check=False)


def shop_config(tmp_path):
    dest = tmp_path / "USB <Respaldos & más>"
    extra = '[machine]\nname = "Caja <1> & Café"\n[cloud]\nprovider = "dropbox"\nfolder = "/Tienda <Centro>"\n'
    return write_config(tmp_path / "respaldos.toml", [tmp_path / "pos"], dest, extra), dest


def test_password_set_reads_standard_input_keeps_it_and_writes_the_sheet(tmp_path, password_keyring):
    config_path, _dest = shop_config(tmp_path)

    proc = run_cli("--config", str(config_path), "password", "set", stdin=PASSWORD + "\n")

    assert proc.returncode == 0, proc.stderr
    assert PASSWORD not in proc.stdout + proc.stderr
    assert pw.get_password() == PASSWORD
    path = sheet.default_path()
    assert f"Hoja de recuperación: {path}" in proc.stdout
    assert "pierdes los respaldos" in proc.stdout
    assert path.stat().st_mode & 0o777 == 0o600
    text = path.read_text(encoding="utf-8")
    assert "Perro &lt;azul&gt; &amp; &quot;tacos&quot; 42" in text and PASSWORD not in text
    assert "Caja &lt;1&gt; &amp; Café" in text
    assert "USB &lt;Respaldos &amp; más&gt;" in text
    assert "Dropbox" in text and "/Tienda &lt;Centro&gt;" in text
    assert "Si pierde esta contraseña, pierde los respaldos" in text
    assert "7-Zip" in text and "https://www.7-zip.org" in text
    assert "<script" not in text
    log = log_file().read_text(encoding="utf-8")
    assert "recovery sheet written" in log and "azul" not in log


def test_a_short_password_is_refused_with_exit_2_and_nothing_is_kept(tmp_path, password_keyring):
    config_path, _dest = shop_config(tmp_path)

    proc = run_cli("--config", str(config_path), "password", "set", stdin="corta\n")

    assert proc.returncode == 2
    assert "al menos 10 caracteres" in proc.stderr
    assert pw.get_password() is None
    assert not sheet.default_path().exists()


def test_a_new_password_keeps_the_old_one_for_older_backups(tmp_path, password_keyring):
    config_path, _dest = shop_config(tmp_path)
    assert run_cli("--config", str(config_path), "password", "set", stdin="la primera clave\n").returncode == 0

    proc = run_cli("--config", str(config_path), "password", "set", stdin="la segunda clave\n")

    assert proc.returncode == 0, proc.stderr
    assert "los anteriores se siguen abriendo con la contraseña anterior" in proc.stdout
    assert pw.candidate_passwords() == ["la segunda clave", "la primera clave"]
    assert "RESPALDOS_PASSWORD" not in proc.stderr


def test_set_warns_when_the_environment_variable_would_win(tmp_path, password_keyring, monkeypatch):
    config_path, _dest = shop_config(tmp_path)
    monkeypatch.setenv("RESPALDOS_PASSWORD", "la del entorno 123")

    proc = run_cli("--config", str(config_path), "password", "set", stdin="la guardada 12345\n")

    assert proc.returncode == 0, proc.stderr
    assert "RESPALDOS_PASSWORD está definida" in proc.stderr
    assert "la del entorno" not in proc.stdout + proc.stderr


def test_password_sheet_writes_it_again_where_asked_or_says_how_to_supply_the_password(tmp_path,
                                                                                      password_keyring):
    config_path, _dest = shop_config(tmp_path)
    out = tmp_path / "para imprimir.html"

    missing = run_cli("--config", str(config_path), "password", "sheet", "--out", str(out))
    assert missing.returncode == 2 and "RESPALDOS_PASSWORD" in missing.stderr
    assert not out.exists()

    pw.set_password(None, "guardada antes 123")
    proc = run_cli("--config", str(config_path), "password", "sheet", "--out", str(out))

    assert proc.returncode == 0, proc.stderr
    assert str(out) in proc.stdout
    assert "guardada antes 123" in out.read_text(encoding="utf-8")
    assert out.stat().st_mode & 0o777 == 0o600


def test_without_a_keyring_the_command_says_what_the_file_would_mean(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.delenv("RESPALDOS_PASSWORD", raising=False)
    config_path, _dest = shop_config(tmp_path)

    proc = run_cli("--config", str(config_path), "password", "set", stdin="sin llavero 12345\n")

    assert proc.returncode == 1
    assert "allow_file = true" in proc.stderr
    assert not sheet.default_path().exists()
