"""Backups protected with a password, in the cloud: with ``[encryption] scope = "cloud"`` the copy that lands in
Dropbox (under the archive's own name) needs the password while the local archive stays plain; with
``scope = "all"`` the encrypted local archive goes up as it is; without the password the upload waits and says
why. The password comes from the keyring (as ``respaldos password set`` leaves it) or RESPALDOS_PASSWORD."""

from __future__ import annotations

import shutil
import subprocess
import zipfile

import pytest

from tests.cloud.cli import respaldos
from tests.cloud.helpers import FOLDER
from tests.helpers import make_sales_db, write_config
from wizard.core import config as config_module
from wizard.core.archive import WrongPassword, is_encrypted, verify_archive
from wizard.core.archive.encrypt_copy import is_encrypted_archive
from wizard.core.backup import list_archives, run_backup
from wizard.core.cloud import encrypted
from wizard.core.cloud.encrypted import copies_dir
from wizard.core.encryption.password import PasswordMissing, set_password

PASSWORD = "la caja de Doña Lupe 2026"


def shop(tmp_path, scope: str):
    data = tmp_path / "datos"
    data.mkdir()
    make_sales_db(data / "punto_de_venta.db", rows=2000)
    dest = tmp_path / "respaldos"
    dest.mkdir()
    config = write_config(tmp_path / "respaldos.toml", [data], dest,
                          f'[cloud]\nprovider = "dropbox"\nfolder = "{FOLDER}"\naccount = "Lupita Pérez"\n'
                          f'[encryption]\nenabled = true\nscope = "{scope}"\n')
    return config, dest


def members_encrypted(path) -> list[bool]:
    with zipfile.ZipFile(path) as zf:
        return [is_encrypted(info) for info in zf.infolist()]


def test_the_cloud_copy_needs_the_password_and_the_local_archive_stays_plain(dropbox_server, signed_in,
                                                                              tmp_path, monkeypatch):
    monkeypatch.delenv("RESPALDOS_PASSWORD", raising=False)
    set_password(None, PASSWORD)  # in the keyring, as `respaldos password set` keeps it
    config, dest = shop(tmp_path, "cloud")

    result = respaldos("backup", "--config", str(config))

    assert result.returncode == 0, result.stderr
    assert "Nube: 1 respaldo subido y verificado en Dropbox." in result.stdout
    archive = list_archives(dest)[0].path
    assert members_encrypted(archive) and not any(members_encrypted(archive))  # plain on this computer
    uploaded = tmp_path / "bajado" / archive.name
    uploaded.parent.mkdir()
    uploaded.write_bytes(dropbox_server.file(f"{FOLDER}/{archive.name}").data)
    assert uploaded.read_bytes() != archive.read_bytes()
    assert all(members_encrypted(uploaded))
    with pytest.raises(PasswordMissing):
        verify_archive(uploaded, passwords=[])
    with pytest.raises(WrongPassword):
        verify_archive(uploaded, passwords=["no es la contraseña"])
    assert [f.sha256 for f in verify_archive(uploaded, passwords=[PASSWORD]).files] == \
        [f.sha256 for f in verify_archive(archive).files]
    if shutil.which("7z"):
        assert subprocess.run(["7z", "t", f"-p{PASSWORD}", str(uploaded)], check=False, capture_output=True).returncode == 0
    assert not copies_dir().exists() or not any(copies_dir().iterdir())  # the encrypted copy is gone


def test_with_scope_all_the_encrypted_archive_goes_up_as_it_is(dropbox_server, signed_in, tmp_path, monkeypatch):
    monkeypatch.setenv("RESPALDOS_PASSWORD", PASSWORD)
    config, dest = shop(tmp_path, "all")

    result = respaldos("backup", "--config", str(config))

    assert result.returncode == 0, result.stderr
    archive = list_archives(dest)[0].path
    assert all(members_encrypted(archive))
    assert dropbox_server.file(f"{FOLDER}/{archive.name}").data == archive.read_bytes()
    verify_archive(archive)  # RESPALDOS_PASSWORD


def test_without_the_password_the_local_backup_is_made_and_the_upload_waits(dropbox_server, signed_in,
                                                                             tmp_path, monkeypatch):
    monkeypatch.delenv("RESPALDOS_PASSWORD", raising=False)
    config, dest = shop(tmp_path, "cloud")

    result = respaldos("backup", "--config", str(config))

    assert result.returncode == 0, result.stderr
    assert len(list_archives(dest)) == 1
    assert "Nube: 1 respaldo pendiente de subir" in result.stderr
    assert "RESPALDOS_PASSWORD" in result.stderr
    assert dropbox_server.file(f"{FOLDER}/{list_archives(dest)[0].name}") is None


def test_an_encrypted_copy_waiting_is_reused_so_a_resumed_upload_sends_the_same_bytes(tmp_path, monkeypatch):
    monkeypatch.setenv("RESPALDOS_PASSWORD", PASSWORD)
    cfg_path, _dest = shop(tmp_path, "cloud")
    cfg = config_module.load(cfg_path)
    archive = run_backup(cfg).archive
    first, fresh = encrypted.upload_source(cfg, archive)
    assert fresh and first != archive and first.name == archive.name and is_encrypted_archive(first)
    sent = first.read_bytes()
    again, fresh_again = encrypted.upload_source(cfg, archive)
    assert again == first and not fresh_again
    assert again.read_bytes() == sent  # a new copy would differ: other salts
    encrypted.forget(archive)
    assert not first.exists()
    cfg.encryption.enabled = False
    assert encrypted.upload_source(cfg, archive) == (archive, False)
