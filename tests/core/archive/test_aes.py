"""Backups protected with a password (WinZip AES-256, AE-2): archives the app writes encrypted open in 7-Zip and
bsdtar with the password and nowhere without it, the customer's data is not in the file's bytes, and every
reader of the app takes the password given or from RESPALDOS_PASSWORD, says a wrong one in its sentence and
names a damaged member."""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.core.archive.helpers import (
    BIG_MEMBER,
    MEMBER,
    SEVEN_ZIP,
    SHOP_ROOT,
    expected_tree,
    finish_archive,
    flip_byte_in_member,
    make_shop,
    mixed_bytes,
    needs_7z,
    respaldos,
    tree,
)
from tests.helpers import in_ci, write_config
from wizard.core import config
from wizard.core.archive import (
    CHUNK_SIZE,
    WrongPassword,
    ZipWriter,
    aes,
    is_encrypted,
    iter_member,
    read_manifest,
    restore_archive,
    verify_archive,
)
from wizard.core.archive.deflate import deflate_chunk
from wizard.core.backup import run_backup
from wizard.core.encryption.password import PasswordMissing
from wizard.core.errors import ArchiveDamaged

BSDTAR = shutil.which("bsdtar")
needs_bsdtar = pytest.mark.skipif(BSDTAR is None and not in_ci(),
                                  reason="bsdtar is not installed (apt-get install libarchive-tools)")
PASSWORD = "Doña Lupe 2026 ñandú"  # not ASCII: 7-Zip and libarchive take it as UTF-8, as we do
CUSTOMER = "Cliente: Guadalupe Hernández Ramírez, tel. 55 1234 5678, saldo 1,250.00".encode()
SECRET_FILE = "clientes/saldos.bin"


def write_shop(source: Path) -> None:
    make_shop(source)
    # Random bytes around the name: deflate stores them verbatim, so a plain archive shows the name as is.
    (source / SECRET_FILE).parent.mkdir(parents=True, exist_ok=True)
    (source / SECRET_FILE).write_bytes(os.urandom(1000) + CUSTOMER + os.urandom(1000))


@pytest.fixture(scope="module")
def archives(tmp_path_factory):
    """The same shop backed up by run_backup three ways: plain, encrypted ("all"), and the plain one's
    encrypted copy ("cloud")."""
    from wizard.core.archive.encrypt_copy import encrypt_archive

    base = tmp_path_factory.mktemp("aes")
    source = base / SHOP_ROOT
    write_shop(source)
    made = {}
    for kind, extra in (("plain", ""), ("all", '[encryption]\nenabled = true\nscope = "all"\n')):
        dest = base / kind
        dest.mkdir()
        os.environ["RESPALDOS_PASSWORD"] = PASSWORD
        try:
            result = run_backup(config.load(write_config(base / f"{kind}.toml", [source], dest, extra)))
        finally:
            del os.environ["RESPALDOS_PASSWORD"]
        assert result.status == "ok", result.message
        made[kind] = result.archive
    (base / "cloud").mkdir()
    made["cloud"] = base / "cloud" / made["plain"].name
    encrypt_archive(made["plain"], made["cloud"], PASSWORD)
    return made


ENCRYPTED = ["all", "cloud"]


def expected() -> dict[str, bytes]:
    files = expected_tree()
    files[f"{SHOP_ROOT}/{SECRET_FILE}"] = b""  # random: compared by size only
    return files


@needs_7z
@pytest.mark.parametrize("kind", ENCRYPTED)
def test_7zip_tests_the_archive_with_the_password_and_fails_with_a_wrong_one(archives, kind):
    good = subprocess.run([SEVEN_ZIP, "t", f"-p{PASSWORD}", str(archives[kind])], check=False, capture_output=True, text=True)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "Everything is Ok" in good.stdout
    wrong = subprocess.run([SEVEN_ZIP, "t", "-potra contraseña", str(archives[kind])], check=False, capture_output=True,
                           text=True)
    assert wrong.returncode != 0
    assert "Wrong password" in wrong.stdout + wrong.stderr
    listing = subprocess.run([SEVEN_ZIP, "l", "-slt", str(archives[kind])], check=False, capture_output=True, text=True).stdout
    assert listing.count("Method = AES-256 Deflate") == len(zipfile.ZipFile(archives[kind]).infolist())


@needs_bsdtar
@pytest.mark.parametrize("kind", ENCRYPTED)
def test_bsdtar_extracts_the_archive_with_the_password(archives, kind, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.run([BSDTAR or "bsdtar", "-x", "--passphrase", PASSWORD, "-f", str(archives[kind]),
                           "-C", str(out)], check=False, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    got = tree(out)
    for name, data in expected_tree().items():
        assert got[name] == data
    assert len(got[f"{SHOP_ROOT}/{SECRET_FILE}"]) == 2000 + len(CUSTOMER)


@pytest.mark.parametrize("kind", ENCRYPTED)
def test_the_customers_name_is_in_the_plain_archive_and_not_in_the_encrypted_one(archives, kind):
    assert CUSTOMER in archives["plain"].read_bytes()  # stored verbatim: this test can fail
    data = archives[kind].read_bytes()
    assert CUSTOMER not in data
    assert CUSTOMER[:24] not in data
    with zipfile.ZipFile(archives[kind]) as zf:
        infos = zf.infolist()
    assert infos and all(is_encrypted(i) and i.flag_bits & 1 and i.CRC == 0 for i in infos)
    assert all(aes.parse_extra(i.extra) == (2, 3, 8) for i in infos)


def test_the_cloud_copy_keeps_the_deflate_bytes_and_adds_28_bytes_per_member(archives):
    with zipfile.ZipFile(archives["plain"]) as plain, zipfile.ZipFile(archives["cloud"]) as copy:
        sizes = {i.filename: (i.file_size, i.compress_size, i.date_time) for i in plain.infolist()}
        copied = {i.filename: (i.file_size, i.compress_size - aes.OVERHEAD, i.date_time) for i in copy.infolist()}
    assert copied == sizes


@pytest.mark.parametrize("kind", ENCRYPTED)
def test_verify_and_restore_with_the_password_given(archives, kind, tmp_path):
    manifest = verify_archive(archives[kind], passwords=[PASSWORD])
    assert {f.path for f in manifest.files} == set(expected())
    restored = restore_archive(archives[kind], tmp_path / "r", passwords=[PASSWORD])
    assert len(restored) == len(expected())
    got = tree(tmp_path / "r")
    for name, data in expected_tree().items():
        assert got[name] == data


def test_readers_take_the_password_from_respaldos_password(archives, tmp_path, monkeypatch):
    monkeypatch.setenv("RESPALDOS_PASSWORD", PASSWORD)
    assert read_manifest(archives["all"]).files
    verify_archive(archives["all"])
    restore_archive(archives["cloud"], tmp_path / "r")
    assert tree(tmp_path / "r")[f"{SHOP_ROOT}/{SECRET_FILE}"].count(CUSTOMER) == 1


@pytest.mark.parametrize("kind", ENCRYPTED)
def test_a_wrong_password_is_said_in_one_sentence(archives, kind, tmp_path, monkeypatch):
    name = archives[kind].name
    with pytest.raises(WrongPassword) as caught:
        verify_archive(archives[kind], passwords=["otra contraseña"])
    assert str(caught.value) == f"La contraseña no es correcta para {name}"
    monkeypatch.setenv("RESPALDOS_PASSWORD", "otra contraseña")
    with pytest.raises(WrongPassword):
        restore_archive(archives[kind], tmp_path / "r")
    assert not (tmp_path / "r").exists()


def test_without_a_password_the_sentence_says_how_to_give_it(archives, monkeypatch):
    monkeypatch.delenv("RESPALDOS_PASSWORD", raising=False)
    with pytest.raises(PasswordMissing) as caught:
        verify_archive(archives["all"], passwords=[])
    assert "RESPALDOS_PASSWORD" in str(caught.value) and archives["all"].name in str(caught.value)


def test_the_command_line_verifies_with_the_variable_and_says_a_wrong_password(archives, monkeypatch):
    monkeypatch.setenv("RESPALDOS_PASSWORD", PASSWORD)
    ok = respaldos("verify", str(archives["all"]))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    monkeypatch.setenv("RESPALDOS_PASSWORD", "no es esta")
    bad = respaldos("verify", str(archives["cloud"]))
    assert bad.returncode != 0
    assert f"La contraseña no es correcta para {archives['cloud'].name}" in bad.stderr + bad.stdout
    assert "Traceback" not in bad.stderr and "CRC" not in bad.stderr + bad.stdout


@pytest.mark.parametrize("kind", ENCRYPTED)
def test_a_damaged_encrypted_member_is_named(archives, kind, tmp_path):
    damaged = tmp_path / archives[kind].name
    shutil.copy(archives[kind], damaged)
    flip_byte_in_member(damaged, BIG_MEMBER)
    with pytest.raises(ArchiveDamaged) as caught:
        verify_archive(damaged, passwords=[PASSWORD])
    assert caught.value.member == BIG_MEMBER
    assert str(caught.value).startswith(f"El respaldo {damaged.name} está dañado: {BIG_MEMBER}")


def test_a_changed_byte_the_inflater_cannot_see_fails_the_mac(tmp_path):
    """A stored (incompressible) member: a flipped byte still inflates; only the HMAC catches it."""
    path = tmp_path / "a.zip"
    with open(path, "xb") as fp:
        writer = ZipWriter(fp, password=PASSWORD)
        entry = writer.add_bytes(MEMBER, os.urandom(300_000))
        finish_archive(writer, [entry])
    flip_byte_in_member(path, MEMBER)
    with zipfile.ZipFile(path) as zf, open(path, "rb") as fp, pytest.raises(aes.AuthenticationFailed):
        b"".join(iter_member(fp, zf.getinfo(MEMBER), unlocker=aes.Unlocker(path, [PASSWORD])))
    with pytest.raises(ArchiveDamaged) as caught:
        verify_archive(path, passwords=[PASSWORD])
    assert caught.value.member == MEMBER


def test_a_password_change_applies_to_new_backups_only(tmp_path):
    archives = {}
    for password in ("primera contraseña", "segunda contraseña"):
        path = tmp_path / f"{password[:7]}.zip"
        with open(path, "xb") as fp:
            writer = ZipWriter(fp, password=password)
            entry = writer.add_bytes(MEMBER, b"ventas del dia\n" * 1000)
            finish_archive(writer, [entry])
        archives[password] = path
    first, second = archives.values()
    verify_archive(first, passwords=["primera contraseña"])
    verify_archive(second, passwords=["segunda contraseña"])
    with pytest.raises(WrongPassword):
        verify_archive(first, passwords=["segunda contraseña"])
    # A reader given both (the keyring keeps the older ones) opens each with its own.
    verify_archive(first, passwords=["segunda contraseña", "primera contraseña"])


def test_early_chunks_are_encrypted_and_authenticated_once_confirmed(tmp_path):
    """The early-compression path (a SQLite snapshot): the head placeholder rewritten in place, one early
    chunk kept and one cut off; 7-Zip and our verification agree the member is whole."""
    head = 64 << 10
    final = mixed_bytes(head + 4 * CHUNK_SIZE + 777)
    changed = bytearray(final)
    changed[head + CHUNK_SIZE + 5] ^= 1  # the second early chunk was written again after it was taken
    path = tmp_path / "early.zip"
    with open(path, "xb") as fp:
        writer = ZipWriter(fp, read_back=path, password=PASSWORD)
        entry = writer.begin(MEMBER, 0, len(final), early_head=head)
        for i in range(3):
            chunk = bytes(changed[head + i * CHUNK_SIZE:head + (i + 1) * CHUNK_SIZE])
            writer.add_early(chunk, deflate_chunk(chunk, False))
        offset = 0
        while offset < len(final):
            n = writer.next_piece
            writer.write(final[offset:offset + n])
            offset += n
        writer.end()
        finish_archive(writer, [entry])
    assert entry.read_back is not None and not entry.read_back.error
    verify_archive(path, passwords=[PASSWORD], read_back={e.name: e.read_back for e in writer.entries})
    verify_archive(path, passwords=[PASSWORD])
    if shutil.which("7z") or in_ci():
        proc = subprocess.run([SEVEN_ZIP, "t", f"-p{PASSWORD}", str(path)], check=False, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout


def test_a_backup_without_the_password_fails_in_a_sentence_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv("RESPALDOS_PASSWORD", raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    import keyring
    from keyring.backends.null import Keyring

    previous = keyring.get_keyring()
    keyring.set_keyring(Keyring())
    try:
        source, dest = tmp_path / SHOP_ROOT, tmp_path / "dest"
        make_shop(source)
        dest.mkdir()
        cfg = config.load(write_config(tmp_path / "c.toml", [source], dest,
                                       '[encryption]\nenabled = true\nscope = "all"\n'))
        result = run_backup(cfg)
    finally:
        keyring.set_keyring(previous)
    assert result.status == "failed"
    assert "RESPALDOS_PASSWORD" in result.message
    assert list(dest.iterdir()) == []


@pytest.mark.parametrize(("offset", "size"), [(0, 1), (5, 100), (16 * 65535 - 3, 100), (16 * 65536 * 3 + 7, 1 << 20)])
def test_the_counter_mode_is_winzips_at_any_offset(offset, size):
    """Our counter blocks against pycryptodome's own CTR mode with a little-endian counter from 1."""
    from Cryptodome.Cipher import AES
    from Cryptodome.Util import Counter

    key, data = os.urandom(32), os.urandom(size)
    reference = AES.new(key, AES.MODE_CTR, counter=Counter.new(128, little_endian=True, initial_value=1 + offset // 16))
    reference.encrypt(bytes(offset % 16))
    assert aes._Stream(key).apply(offset, data) == reference.encrypt(data)


def test_restore_and_test_restore_from_the_command_line_with_the_variable(archives, tmp_path, monkeypatch):
    monkeypatch.setenv("RESPALDOS_PASSWORD", PASSWORD)
    cfg = archives["all"].parent.parent / "all.toml"
    restored = respaldos("restore", "--config", str(cfg), "--to", str(tmp_path / "r"), str(archives["all"]))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert tree(tmp_path / "r")[f"{SHOP_ROOT}/{SECRET_FILE}"].count(CUSTOMER) == 1
    drill = respaldos("test-restore", "--config", str(cfg), str(archives["all"]))
    assert drill.returncode == 0, drill.stdout + drill.stderr
    monkeypatch.delenv("RESPALDOS_PASSWORD")
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    missing = respaldos("test-restore", "--config", str(cfg), str(archives["all"]))
    assert missing.returncode != 0
    assert "RESPALDOS_PASSWORD" in missing.stdout + missing.stderr
    assert "Traceback" not in missing.stderr
