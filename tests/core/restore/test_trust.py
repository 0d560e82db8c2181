"""Restore trusts nothing in an archive it did not check: whose backup it is, which folders it names, every
member's name and where it would land (issue 13, section 3)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import uuid
import zipfile
from datetime import datetime
from pathlib import Path

import pytest

from tests.helpers import ROOT, make_sales_db, respaldos_cmd
from wizard.core import machine, restore
from wizard.core.archive import MANIFEST_NAME, Manifest, ManifestFile, restore_archive
from wizard.core.backup import archive_name, run_backup
from wizard.core.config import Config, DestinationConfig, MachineConfig, SourceConfig
from wizard.core.errors import UserError
from wizard.core.restore import in_place

OTHER_ID = "3f2a9c1b-0d4e-4a8b-9c1d-2e3f4a5b6c7d"


def state_of(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def archives_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("respaldo_"))


def respaldos(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(respaldos_cmd(*args), cwd=ROOT, capture_output=True, text=True, encoding="utf-8",
                          timeout=300, check=False)


def handmade_archive(path: Path, sources: list[dict[str, str]], members: dict[str, bytes],
                     owner: dict[str, str] | None = None) -> Path:
    """A well-formed archive (CRCs and SHA-256 right), written with zipfile as anyone could."""
    manifest = Manifest(app="Respaldos", version="0.1.0", created="2026-11-25T20:00:00-06:00", host="CAJA1",
                        sources=sources, machine=owner)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, payload in members.items():
            zf.writestr(name, payload)
            manifest.files.append(ManifestFile(name, len(payload), "2026-11-25T19:00:00-06:00",
                                               hashlib.sha256(payload).hexdigest()))
        zf.writestr(MANIFEST_NAME, manifest.to_json())
    return path


@pytest.fixture
def shop(tmp_path, monkeypatch):
    """This computer: its data folder (a database and two files), the USB destination and its config."""
    monkeypatch.setenv("RESPALDOS_DATA_DIR", str(tmp_path / "app-este-equipo"))
    data = tmp_path / "SICAR" / "datos"
    (data / "facturas").mkdir(parents=True)
    make_sales_db(data / "punto_de_venta.db", rows=300)
    (data / "config.ini").write_text("impresora=EPSON\n", encoding="utf-8")
    (data / "facturas" / "F1001.xml").write_text("<cfdi Folio='1001'/>", encoding="utf-8")
    usb = tmp_path / "USB"
    usb.mkdir()
    config = Config(source=SourceConfig(paths=[str(data)]), destination=DestinationConfig(folder=str(usb)),
                    machine=MachineConfig(name="Caja 1"))
    return data, usb, config


def made_by_caja_2(monkeypatch, tmp_path, config: Config) -> Path:
    """A backup of the same folder made by another installation, "Caja 2" (its own data folder and id)."""
    monkeypatch.setenv("RESPALDOS_DATA_DIR", str(tmp_path / "app-caja-2"))
    other = Config(source=config.source, destination=config.destination, machine=MachineConfig(name="Caja 2"))
    result = run_backup(other)
    assert result.succeeded, result.message
    caja_2 = machine.current("Caja 2")
    monkeypatch.setenv("RESPALDOS_DATA_DIR", str(tmp_path / "app-este-equipo"))
    assert machine.current("Caja 1").id != caja_2.id
    return result.archive


# -- another installation's backup -------------------------------------------------------------------------

def test_another_installations_backup_is_refused_in_place_without_the_flag_and_goes_back_with_it(
        shop, tmp_path, monkeypatch):
    data, usb, config = shop
    archive = made_by_caja_2(monkeypatch, tmp_path, config)
    backed_up = state_of(data)
    (data / "config.ini").write_text("impresora=ZEBRA\n", encoding="utf-8")
    before = state_of(data)

    owner, folders = restore.folders_to_overwrite(archive, config)
    assert (owner.mine, owner.name, folders) == (False, "Caja 2", [data])
    assert uuid.UUID(owner.id)
    with pytest.raises(restore.OtherMachineBackup) as info:
        restore.restore_to_original(archive, config)

    assert info.value.exit_code == 2
    assert (info.value.owner, info.value.folders) == (owner, folders)
    assert str(info.value) == (
        f"El respaldo {archive.name} es de otro equipo, Caja 2 ({owner.id}). Restaurarlo en su lugar original "
        f"escribe encima de lo que hay en este equipo en:\n  {data}\n"
        "Si este equipo reemplaza a Caja 2, vuelve a intentarlo con --from-other-machine.")
    assert state_of(data) == before
    assert archives_in(usb) == [archive.name], "no safety backup was made"

    report = restore.restore_to_original(archive, config, from_other_machine=True)

    assert state_of(data)["config.ini"] == backed_up["config.ini"] == b"impresora=EPSON\n"
    assert report.folders == [data]
    assert report.safety_backup is not None and report.safety_backup.exists()


def test_cli_restore_of_another_installations_backup_exits_2_without_the_flag_and_names_what_it_overwrites(
        shop, tmp_path, monkeypatch):
    data, _usb, config = shop
    archive = made_by_caja_2(monkeypatch, tmp_path, config)
    # The new computer's configuration does not name the folder yet: the backup's folders are used, once shown.
    elsewhere = tmp_path / "otra carpeta"
    elsewhere.mkdir()
    config_path = tmp_path / "respaldos.toml"
    from wizard.core import config as config_mod

    config_mod.save(Config(source=SourceConfig(paths=[str(elsewhere)]), destination=config.destination,
                           machine=config.machine), config_path)
    (data / "config.ini").write_text("impresora=ZEBRA\n", encoding="utf-8")

    refused = respaldos("restore", str(archive), "--to-original", "--config", str(config_path))
    assert refused.returncode == 2, refused.stderr
    assert "es de otro equipo, Caja 2 (" in refused.stderr
    assert f"\n  {data}\n" in refused.stderr
    assert refused.stderr.endswith("Si este equipo reemplaza a Caja 2, vuelve a intentarlo con "
                                   "--from-other-machine.\n")
    assert (data / "config.ini").read_text(encoding="utf-8") == "impresora=ZEBRA\n"

    done = respaldos("restore", str(archive), "--to-original", "--from-other-machine", "--config", str(config_path))
    assert done.returncode == 0, done.stderr
    assert f"El respaldo {archive.name} es de otro equipo, Caja 2 (" in done.stdout
    assert f"\n  {data}\n" in done.stdout
    assert (data / "config.ini").read_text(encoding="utf-8") == "impresora=EPSON\n"

    alone = respaldos("restore", str(archive), "--to", str(tmp_path / "x"), "--from-other-machine")
    assert alone.returncode == 2
    assert "--from-other-machine solo sirve con --to-original" in alone.stderr


def test_whose_backup_the_manifest_says_wins_over_the_name_and_an_older_one_is_this_installations(shop, tmp_path):
    data, usb, config = shop
    me = machine.current("Caja 1")
    sources = [{"path": str(data), "archive_path": "datos", "type": "folder"}]
    members = {"datos/config.ini": b"x"}

    older = handmade_archive(usb / archive_name(datetime(2026, 11, 25, 20)), sources, members)
    assert restore.archive_owner(older, restore.read_contents(older).manifest, config) == \
        restore.ArchiveOwner(True, "", "Caja 1")
    tagged = handmade_archive(usb / archive_name(datetime(2026, 11, 25, 21), "Caja-2-3f2a9c1b"), sources, members)
    assert restore.folders_to_overwrite(tagged, config)[0] == restore.ArchiveOwner(False, "3f2a9c1b", "Caja 2")
    renamed = handmade_archive(usb / archive_name(datetime(2026, 11, 25, 22), "Caja-2-3f2a9c1b"), sources,
                               members, owner=me.manifest_entry())
    assert restore.folders_to_overwrite(renamed, config)[0] == restore.ArchiveOwner(True, me.id, "Caja 1")
    theirs = handmade_archive(usb / archive_name(datetime(2026, 11, 25, 23)), sources, members,
                              owner={"id": OTHER_ID, "name": "", "host": "CAJA-DOS"})
    assert restore.folders_to_overwrite(theirs, config)[0] == restore.ArchiveOwner(False, OTHER_ID, "CAJA-DOS")


# -- only the folders the configuration names ------------------------------------------------------------

def test_an_own_backup_naming_a_folder_outside_the_configuration_is_refused_in_place_and_writes_nothing(
        shop, tmp_path):
    data, usb, config = shop
    outside = tmp_path / "Windows" / "System32"
    archive = handmade_archive(
        usb / archive_name(datetime(2026, 11, 25, 20)),
        [{"path": str(data), "archive_path": "datos", "type": "folder"},
         {"path": str(outside), "archive_path": "System32", "type": "folder"}],
        {"datos/config.ini": b"impresora=NUEVA\n", "System32/drivers/etc/hosts": b"1.2.3.4 banco.com\n"})
    before = state_of(data)

    with pytest.raises(UserError) as info:
        restore.restore_to_original(archive, config)

    assert str(info.value) == (
        f"El respaldo {archive.name} guarda datos de {outside}, que no está entre lo que respalda este equipo, "
        f"así que no se restauró nada en su lugar original. Restáuralo en otra carpeta (respaldos restore "
        f"\"{archive}\" --to CARPETA) o agrega {outside} a la configuración.")
    assert state_of(data) == before
    assert not (tmp_path / "Windows").exists()
    assert archives_in(usb) == [archive.name], "no safety backup was made"


def test_cli_restore_to_original_of_a_folder_outside_the_configuration_exits_1_and_writes_nothing(shop, tmp_path):
    _data, usb, config = shop
    outside = tmp_path / "fuera"
    archive = handmade_archive(usb / archive_name(datetime(2026, 11, 25, 20)),
                               [{"path": str(outside), "archive_path": "fuera", "type": "folder"}],
                               {"fuera/nota.txt": b"hola"})
    config_path = tmp_path / "respaldos.toml"
    from wizard.core import config as config_mod

    config_mod.save(config, config_path)
    proc = respaldos("restore", str(archive), "--to-original", "--config", str(config_path))
    assert proc.returncode == 1
    assert f"guarda datos de {outside}, que no está entre lo que respalda este equipo" in proc.stderr
    assert "--to CARPETA" in proc.stderr
    assert not outside.exists()


def test_a_single_file_goes_back_only_when_the_configuration_names_that_same_file(shop, tmp_path):
    data, usb, config = shop
    archive = handmade_archive(usb / archive_name(datetime(2026, 11, 25, 20)),
                               [{"path": str(data / "config.ini"), "archive_path": "config.ini", "type": "file"}],
                               {"config.ini/config.ini": b"impresora=NUEVA\n"})
    with pytest.raises(UserError, match="que no está entre lo que respalda este equipo"):
        restore.restore_to_original(archive, config)  # the configuration names the folder, not the file
    assert (data / "config.ini").read_text(encoding="utf-8") == "impresora=EPSON\n"

    just_the_file = Config(source=SourceConfig(paths=[str(data / "config.ini")]), destination=config.destination,
                           machine=config.machine)
    restore.restore_to_original(archive, just_the_file)
    assert (data / "config.ini").read_text(encoding="utf-8") == "impresora=NUEVA\n"


def test_the_configured_folder_is_compared_as_the_os_compares_paths(shop, tmp_path):
    data, usb, config = shop
    (tmp_path / "atajo").symlink_to(data.parent, target_is_directory=True)
    archive = handmade_archive(usb / archive_name(datetime(2026, 11, 25, 20)),
                               [{"path": str(data), "archive_path": "datos", "type": "folder"}],
                               {"datos/config.ini": b"x"})
    for same in (f"{data}{os.sep}", str(tmp_path / "atajo" / "datos"), str(data / "facturas" / "..")):
        same_folder = Config(source=SourceConfig(paths=[same]), destination=config.destination)
        assert restore.folders_to_overwrite(archive, same_folder)[1] == [data]
    other = Config(source=SourceConfig(paths=[str(data / "facturas")]), destination=config.destination)
    with pytest.raises(UserError, match="que no está entre lo que respalda este equipo"):
        restore.folders_to_overwrite(archive, other)


# -- member names ---------------------------------------------------------------------------------------------

BAD_NAMES = ["datos/D:x.txt", "datos/C:/Windows/win.ini", "datos/nota.txt:oculto", "datos/sub:dir/a.txt"]
COLLISIONS = [("datos/Ventas.txt", "datos/ventas.txt"), ("datos/FACTURAS/F1.xml", "datos/facturas/F1.xml"),
              ("datos/nota", "datos/NOTA/dentro.txt")]


def refused_everywhere(archive: Path, config: Config, data: Path, tmp_path: Path, match: str) -> None:
    """Refused in place, into a new folder (core and command line) and into a folder with --force; nothing is
    written anywhere, no folder is made."""
    before = state_of(data)
    with pytest.raises(UserError, match=match):
        restore.restore_to_original(archive, config)
    with pytest.raises(UserError, match=match):
        restore.restore_to_folder(archive, tmp_path / "nueva")
    with pytest.raises(UserError, match=match):
        restore_archive(archive, data, force=True)
    proc = respaldos("restore", str(archive), "--to", str(tmp_path / "nueva" / "por la terminal"))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert match.replace("\\", "") in proc.stderr
    assert not (tmp_path / "nueva").exists(), "not even the folder was made"
    assert state_of(data) == before
    assert archives_in(Path(config.destination.folder)) == [archive.name]


@pytest.mark.parametrize("bad", BAD_NAMES)
def test_a_member_with_a_colon_or_a_drive_letter_in_any_part_is_refused_naming_it(shop, tmp_path, bad):
    data, usb, config = shop
    archive = handmade_archive(usb / archive_name(datetime(2026, 11, 25, 20)),
                               [{"path": str(data), "archive_path": "datos", "type": "folder"}],
                               {"datos/config.ini": b"impresora=NUEVA\n", bad: b"fuera"})
    refused_everywhere(archive, config, data, tmp_path, f"contiene una ruta no permitida \\({bad}\\)")


@pytest.mark.parametrize(("first", "second"), COLLISIONS, ids=["file", "folder", "file-and-folder"])
def test_members_that_would_be_one_file_on_windows_are_refused_naming_both(shop, tmp_path, first, second):
    data, usb, config = shop
    archive = handmade_archive(usb / archive_name(datetime(2026, 11, 25, 20)),
                               [{"path": str(data), "archive_path": "datos", "type": "folder"}],
                               {"datos/config.ini": b"impresora=NUEVA\n", first: b"uno", second: b"otro"})
    refused_everywhere(archive, config, data, tmp_path,
                       f"contiene {first} y {second}, que se escribirían uno encima del otro")


def test_two_members_of_a_single_file_source_are_refused_in_place(shop, tmp_path):
    data, usb, config = shop
    config = Config(source=SourceConfig(paths=[str(data / "config.ini")]), destination=config.destination)
    archive = handmade_archive(usb / archive_name(datetime(2026, 11, 25, 20)),
                               [{"path": str(data / "config.ini"), "archive_path": "config.ini", "type": "file"}],
                               {"config.ini/config.ini": b"uno\n", "config.ini/otro.ini": b"otro\n"})
    with pytest.raises(UserError, match="contiene config.ini/config.ini y config.ini/otro.ini, que se escribirían"):
        restore.restore_to_original(archive, config)
    assert (data / "config.ini").read_text(encoding="utf-8") == "impresora=EPSON\n"


# -- links that lead out ------------------------------------------------------------------------------------

def test_a_link_inside_the_data_folder_that_leads_out_does_not_let_a_restore_write_there(shop, tmp_path):
    data, usb, config = shop
    archive = run_backup(config).archive
    outside = tmp_path / "ajeno"
    outside.mkdir()
    (data / "facturas" / "F1001.xml").unlink()
    (data / "facturas").rmdir()
    (data / "facturas").symlink_to(outside, target_is_directory=True)
    before = state_of(data)

    with pytest.raises(UserError) as info:
        restore.restore_to_original(archive, config)
    assert str(info.value) == (
        f"El respaldo {archive.name} escribiría datos/facturas/F1001.xml en {outside / 'F1001.xml'}, fuera de "
        f"{data}, porque un enlace de esa carpeta apunta fuera de ella; no se restauró nada. Quita el enlace o "
        "restaura en otra carpeta.")
    with pytest.raises(UserError, match="porque un enlace de esa carpeta apunta fuera de ella"):
        restore_archive(archive, data.parent, force=True)
    assert list(outside.iterdir()) == []
    assert state_of(data) == before
    assert archives_in(usb) == [archive.name]


def test_a_link_that_appears_while_the_safety_backup_runs_is_caught_before_the_files_go_back(
        shop, tmp_path, monkeypatch):
    data, _usb, config = shop
    archive = run_backup(config).archive
    outside = tmp_path / "ajeno"
    outside.mkdir()
    real = in_place.save_safety_backup

    def safety_then_link(*args, **kwargs):
        made = real(*args, **kwargs)
        for path in (data / "facturas").iterdir():
            path.unlink()
        (data / "facturas").rmdir()
        (data / "facturas").symlink_to(outside, target_is_directory=True)
        return made

    monkeypatch.setattr(in_place, "save_safety_backup", safety_then_link)
    with pytest.raises(restore.RestoreFailed, match="porque un enlace de esa carpeta apunta fuera de ella"):
        restore.restore_to_original(archive, config)
    assert list(outside.iterdir()) == []


def test_another_installations_archive_whose_folders_change_after_they_were_shown_is_refused(
        shop, tmp_path, monkeypatch):
    data, _usb, config = shop
    archive = made_by_caja_2(monkeypatch, tmp_path, config)
    real = in_place.verify_with_progress

    def verify_then_swap(*args, **kwargs):
        manifest = real(*args, **kwargs)
        manifest.sources[0]["path"] = str(tmp_path / "otra")
        return manifest

    monkeypatch.setattr(in_place, "verify_with_progress", verify_then_swap)
    before = state_of(data)
    with pytest.raises(UserError, match=f"El respaldo {archive.name} cambió mientras se verificaba; no se "
                                        "restauró nada."):
        restore.restore_to_original(archive, config, from_other_machine=True)
    assert state_of(data) == before
    assert not (tmp_path / "otra").exists()
