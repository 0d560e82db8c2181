"""The commands that store a secret on a computer without a keyring (the real keyring library's fail
backend, in a new process): they print what that means and store nothing, unless the config says
``[secrets] allow_file = true``; then the secret goes to the file only this user can read."""

from __future__ import annotations

import json
import stat

import pytest

from tests.cloud.cli import respaldos
from tests.cloud.conftest import browser_log
from tests.cloud.helpers import FOLDER
from tests.helpers import write_config
from wizard.core import config as config_module
from wizard.core import secrets

NO_KEYRING = "keyring.backends.fail.Keyring"
ALLOW_FILE = "[secrets]\nallow_file = true\n"


def refused(what: str, config) -> str:
    return (f"No hay un llavero del sistema donde guardar {what}, así que no se guardó. Sin llavero, solo se puede "
            f"guardar en el archivo {secrets.fallback_path()}, que solo tu usuario puede abrir pero que no está "
            f"cifrado: quien copie ese archivo o el disco podría usar {what}. Instala o desbloquea un llavero (en "
            f"Linux, GNOME Keyring o KWallet) y vuelve a intentar, o acepta guardarlo en ese archivo.\n"
            f"Para aceptarlo, agrega a {config}:\n\n  [secrets]\n  allow_file = true\n")


def kept_in_file(what: str) -> str:
    return (f"No hay un llavero del sistema: {what} quedó en el archivo {secrets.fallback_path()}, que solo tu "
            "usuario puede abrir (no está cifrado).")


@pytest.fixture
def no_keyring(monkeypatch):
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", NO_KEYRING)


def config_file(tmp_path, extra: str = ""):
    dest = tmp_path / "respaldos"
    dest.mkdir(exist_ok=True)
    return write_config(tmp_path / "respaldos.toml", [tmp_path / "datos"], dest,
                        f'[cloud]\nprovider = "none"\nfolder = "{FOLDER}"\n' + extra)


def file_secrets() -> dict:
    path = secrets.fallback_path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    return json.loads(path.read_text(encoding="utf-8"))


def test_cloud_login_without_a_keyring_is_refused_before_the_browser_opens(dropbox_server, no_keyring, cloud_env,
                                                                          tmp_path):
    path = config_file(tmp_path)

    result = respaldos("cloud", "login", "dropbox", "--config", str(path))

    assert result.returncode == 1
    assert result.stderr == refused("la sesión de Dropbox", path)
    assert browser_log(cloud_env) == [] and dropbox_server.refresh_tokens == {}
    assert not secrets.fallback_path().exists()
    assert config_module.load(path).cloud.provider == "none"


def test_cloud_login_with_allow_file_in_the_config_keeps_the_session_in_the_user_only_file(
        dropbox_server, no_keyring, tmp_path):
    path = config_file(tmp_path, ALLOW_FILE)

    result = respaldos("cloud", "login", "dropbox", "--config", str(path))

    assert result.returncode == 0, result.stderr
    assert kept_in_file("la sesión de Dropbox") in result.stdout
    token = json.loads(file_secrets()["dropbox"])["refresh_token"]
    assert dropbox_server.refresh_tokens[token]["revoked"] is False
    saved = config_module.load(path)
    assert saved.cloud.provider == "dropbox" and saved.secrets.allow_file
    assert token not in path.read_text(encoding="utf-8")


def test_notify_password_without_a_keyring_is_refused_and_with_the_flag_kept_in_the_file(no_keyring, tmp_path):
    path = config_file(tmp_path)

    no = respaldos("notify", "password", "smtp", "--config", str(path), input="la-clave\n")

    assert no.returncode == 1 and no.stderr == refused("la contraseña del correo", path)
    assert not secrets.fallback_path().exists()

    path = config_file(tmp_path, ALLOW_FILE)
    yes = respaldos("notify", "password", "smtp", "--config", str(path), input="la-clave\n")

    assert yes.returncode == 0, yes.stderr
    assert yes.stdout.splitlines()[:2] == ["Contraseña del correo guardada.", kept_in_file("la contraseña del correo")]
    assert file_secrets() == {"avisos:smtp": "la-clave"}


def test_db_password_without_a_keyring_is_refused_and_with_the_flag_kept_in_the_file(no_keyring, tmp_path):
    database = '[[source.databases]]\nengine = "mysql"\ndatabase = "caja"\nport = 9\n'
    path = config_file(tmp_path, database)

    no = respaldos("db", "password", "caja", "--stdin", "--config", str(path), input="la-clave\n")

    assert no.returncode == 1 and no.stderr == refused("la contraseña de la base de datos caja", path)
    assert not secrets.fallback_path().exists()

    path = config_file(tmp_path, database + ALLOW_FILE)
    yes = respaldos("db", "password", "caja", "--stdin", "--config", str(path), input="la-clave\n")

    # stored, then the connection test fails (no server on port 9): exit 1 for that, not for the password
    assert yes.stdout.splitlines()[:2] == ["Contraseña guardada para caja.",
                                           kept_in_file("la contraseña de la base de datos caja")]
    assert file_secrets() == {"base de datos:caja": "la-clave"}


def test_allow_file_must_be_true_or_false(tmp_path):
    path = config_file(tmp_path, '[secrets]\nallow_file = "sí"\n')
    with pytest.raises(config_module.ConfigError) as info:
        config_module.load(path)
    assert "  secrets.allow_file: debe ser true o false" in str(info.value)
    unknown = config_file(tmp_path, "[secrets]\nallow_files = true\n")
    with pytest.raises(config_module.ConfigError, match="secrets.allow_files: clave desconocida"):
        config_module.load(unknown)


def test_the_flag_is_saved_only_when_it_is_on(tmp_path):
    cfg = config_module.load(config_file(tmp_path))
    config_module.save(cfg, tmp_path / "sin.toml")
    assert "[secrets]" not in (tmp_path / "sin.toml").read_text(encoding="utf-8")
    cfg.secrets.allow_file = True
    config_module.save(cfg, tmp_path / "con.toml")
    assert "[secrets]\nallow_file = true\n" in (tmp_path / "con.toml").read_text(encoding="utf-8")
    assert config_module.load(tmp_path / "con.toml").secrets.allow_file
