"""Several tills share one destination: each installation owns its backups and touches no other's."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
import zipfile
from pathlib import Path

import pytest

from tests.helpers import ROOT, make_sales_db, respaldos_cmd, write_config
from wizard.core import backup, config, machine, ownership
from wizard.core.archive import read_manifest

KEEP_TWO = "[retention]\nkeep_last = 2\nkeep_daily = 0\nkeep_weekly = 0\nkeep_monthly = 0\n"


class Till:
    """One installation: its own data folder (id, history, lock) and config, sharing the destination."""

    def __init__(self, tmp_path: Path, name: str, data: Path, dest: Path, monkeypatch):
        self.data_dir = tmp_path / f"datos-{name.replace(' ', '-')}"
        self.config_path = write_config(tmp_path / f"{name}.toml", [data], dest,
                                        KEEP_TWO + f'[machine]\nname = "{name}"\n')
        self.monkeypatch = monkeypatch

    def use(self) -> None:
        self.monkeypatch.setenv("RESPALDOS_DATA_DIR", str(self.data_dir))

    def back_up(self) -> Path:
        self.use()
        result = backup.run_backup(config.load(self.config_path))
        assert result.status == "ok", result.message
        return result.archive

    def me(self) -> machine.Machine:
        self.use()
        return machine.current(config.load(self.config_path).machine.name)

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "RESPALDOS_DATA_DIR": str(self.data_dir)}
        return subprocess.run(respaldos_cmd(*args, "--config", str(self.config_path)), cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)


@pytest.fixture
def shop(tmp_path, monkeypatch):
    data = tmp_path / "datos"
    data.mkdir()
    make_sales_db(data / "ventas.db", rows=200)
    dest = tmp_path / "USB"
    dest.mkdir()
    one = Till(tmp_path, "Caja 1", data, dest, monkeypatch)
    two = Till(tmp_path, "Caja 2", data, dest, monkeypatch)
    return one, two, dest


# -- identity ---------------------------------------------------------------------------------------------
def test_an_installation_gets_one_random_id_kept_in_its_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("RESPALDOS_DATA_DIR", str(tmp_path / "datos"))
    first = machine.installation_id()
    assert str(uuid.UUID(first)) == first
    assert json.loads((tmp_path / "datos" / machine.MACHINE_FILE_NAME).read_text())["id"] == first
    assert machine.installation_id() == first  # the same on every later call (and start)
    monkeypatch.setenv("RESPALDOS_DATA_DIR", str(tmp_path / "otros"))
    assert machine.installation_id() != first


def test_a_damaged_id_file_is_set_aside_and_a_new_id_made(tmp_path, monkeypatch):
    monkeypatch.setenv("RESPALDOS_DATA_DIR", str(tmp_path))
    (tmp_path / machine.MACHINE_FILE_NAME).write_text("{no es json")
    new = machine.installation_id()
    assert uuid.UUID(new)
    assert (tmp_path / f"{machine.MACHINE_FILE_NAME}.invalido").read_text() == "{no es json"


def test_the_name_defaults_to_the_computer_name_and_the_tag_is_ascii(monkeypatch, tmp_path):
    monkeypatch.setenv("RESPALDOS_DATA_DIR", str(tmp_path))
    assert machine.current("").name == machine.computer_name()
    me = machine.current("  Bodega Ñandú #2  ")
    assert me.name == "Bodega Ñandú #2"
    assert me.tag == f"Bodega-Nandu-2-{me.short}" and len(me.short) == 8
    assert machine.current("日本").tag == me.short  # nothing ASCII in the name: the short id alone


def test_a_backup_carries_its_installation_in_the_name_and_the_manifest(shop):
    one, _two, dest = shop
    archive = one.back_up()
    me = one.me()
    assert backup.ARCHIVE_NAME_RE.match(archive.name)
    assert archive.name.endswith(f"_Caja-1-{me.short}.zip")
    manifest = read_manifest(archive)
    assert manifest.machine == {"id": me.id, "name": "Caja 1", "host": machine.computer_name()}
    assert manifest.host == machine.computer_name()  # kept for format 1 readers
    raw = json.loads(zipfile.ZipFile(archive).read("respaldo.json"))
    assert raw["machine"]["id"] == me.id


@pytest.mark.parametrize("value, ok", [("Caja 1", True), ("", True), (3, False), ("a\tb", False),
                                       ("x" * 61, False)])
def test_the_machine_name_is_checked_by_the_one_validator(value, ok):
    problems = config.validate_dict({"source": {"paths": ["/d"]}, "destination": {"folder": "/r"},
                                     "machine": {"name": value}})
    assert (problems == []) is ok, problems
    if not ok:
        assert [p.key for p in problems] == ["machine.name"]


def test_an_empty_name_is_not_written_to_the_file(tmp_path):
    cfg = config.Config()
    cfg.source.paths = ["/d"]
    cfg.destination.folder = "/r"
    config.save(cfg, tmp_path / "c.toml")
    assert "machine" not in (tmp_path / "c.toml").read_text()
    cfg.machine.name = "Caja 1"
    config.save(cfg, tmp_path / "c.toml")
    assert config.load(tmp_path / "c.toml").machine.name == "Caja 1"


# -- ownership -------------------------------------------------------------------------------------------
def test_two_tills_alternating_on_one_usb_disk_keep_two_backups_each(shop):
    one, two, dest = shop
    made = {"Caja 1": [], "Caja 2": []}
    for _round in range(3):
        made["Caja 1"].append(one.back_up())
        made["Caja 2"].append(two.back_up())
    left = sorted(p.name for p in dest.iterdir())
    assert left == sorted(p.name for p in made["Caja 1"][1:] + made["Caja 2"][1:])
    listed_one = one.cli("list")
    assert listed_one.returncode == 0, listed_one.stderr
    mine, _sep, others = listed_one.stdout.partition("De otros equipos")
    assert all(p.name in mine for p in made["Caja 1"][1:]) and f"2 respaldos en {dest}." in mine
    assert all(f"{p.name}  de Caja 2" in others for p in made["Caja 2"][1:])
    assert f"Caja 2: identificador {two.me().id}" in others
    listed_two = two.cli("list")
    mine, _sep, others = listed_two.stdout.partition("De otros equipos")
    assert all(p.name in mine for p in made["Caja 2"][1:])
    assert all(f"{p.name}  de Caja 1" in others for p in made["Caja 1"][1:])


def test_an_older_archive_without_tag_or_machine_counts_as_this_installations(shop):
    """An existing single-till setup keeps its retention exactly as before the change."""
    one, _two, dest = shop
    first = one.back_up()
    legacy_names = ["respaldo_2026-01-01_20-00-00.zip", "respaldo_2026-01-02_20-00-00.zip"]
    for name in legacy_names:
        _rewrite_without_machine(first, dest / name)
    assert read_manifest(dest / legacy_names[0]).machine is None
    one.back_up()
    # keep_last = 2: the two newest of this installation stay, both legacy ones were counted and deleted
    assert not any((dest / n).exists() for n in legacy_names)
    assert len(list(dest.iterdir())) == 2


def test_an_untagged_archive_whose_manifest_names_another_installation_is_not_touched(shop):
    one, two, dest = shop
    theirs = two.back_up()
    renamed = dest / "respaldo_2020-01-01_00-00-00.zip"  # an old name, e.g. renamed by hand
    theirs.rename(renamed)
    for _ in range(3):
        one.back_up()
    assert renamed.exists()
    assert len(backup.own_archives(dest, one.me())) == 2


def test_another_installations_part_file_and_snapshot_folder_survive_a_run(shop):
    one, two, dest = shop
    other = two.me()
    their_part = dest / f"respaldo_2026-12-04_10-00-00_{other.tag}.zip.part"
    their_part.write_bytes(b"being written by Caja 2")
    their_snapshot = dest / f"{backup.snapshot_dir_prefix(other)}1-abc"
    their_snapshot.mkdir()
    mine = one.me()
    my_part = dest / f"respaldo_2026-12-04_09-00-00_{mine.tag}.zip.part"
    my_part.write_bytes(b"left by a run of Caja 1 that was killed")
    young_legacy = dest / "respaldo_2026-12-04_08-00-00.zip.part"
    young_legacy.write_bytes(b"an older version may be writing it")
    old_legacy = dest / "respaldo_2026-12-01_08-00-00.zip.part"
    old_legacy.write_bytes(b"left days ago")
    week_ago = time.time() - 7 * 86400
    os.utime(old_legacy, (week_ago, week_ago))
    one.back_up()
    assert their_part.read_bytes() == b"being written by Caja 2"
    assert their_snapshot.is_dir()
    assert young_legacy.exists()
    assert not my_part.exists() and not old_legacy.exists()


def test_the_size_estimate_uses_this_installations_last_archive(shop):
    one, two, dest = shop
    one.back_up()
    big = dest / f"respaldo_2030-01-01_00-00-00_{two.me().tag}.zip"
    big.write_bytes(b"\0" * (8 << 20))  # another till's much larger backup, newer than ours
    from wizard.core.snapshot import scan_sources

    cfg = config.load(one.config_path)
    scan = scan_sources(cfg.source.paths, [], dest)
    one.use()
    estimate = backup.estimate_archive_size(scan, dest, me=one.me())
    assert estimate < (2 << 20)


# -- this computer replaces another -----------------------------------------------------------------------
def test_machine_adopt_takes_the_other_installations_id_and_name_and_its_backups(shop):
    one, two, dest = shop
    theirs = []
    for day in (1, 2):  # made days ago: names one second apart would make the order below a matter of luck
        made = two.back_up()
        theirs.append(made.rename(dest / made.name.replace(made.name[9:28], f"2026-01-0{day}_20-00-00")))
    two_id = two.me().id
    new = Till(dest.parent, "Equipo nuevo", dest.parent / "datos", dest, one.monkeypatch)
    made_before = new.back_up()  # a backup of the new computer before it took over
    before = new.cli("list").stdout
    assert "De otros equipos" in before and two_id in before

    adopted = new.cli("machine", "adopt", machine.short_id(two_id))
    assert adopted.returncode == 0, adopted.stderr
    assert "Este equipo reemplaza a Caja 2" in adopted.stdout
    assert config.load(new.config_path).machine.name == "Caja 2"
    shown = new.cli("machine")
    assert f"Identificador: {two_id}" in shown.stdout
    after = new.cli("list").stdout
    # the adopted backups and its own earlier one (its previous id stays its own)
    assert "De otros equipos" not in after and all(p.name in after for p in [*theirs, made_before])
    newest = new.back_up()  # its keep rules now count all of them: keep_last = 2
    assert sorted(p.name for p in dest.iterdir()) == sorted([made_before.name, newest.name])


def test_machine_adopt_refuses_what_is_not_an_id(shop):
    one, _two, _dest = shop
    proc = one.cli("machine", "adopt", "caja-2")
    assert proc.returncode == 1
    assert "no es el identificador de un equipo" in proc.stderr
    assert "Traceback" not in proc.stderr


def _rewrite_without_machine(source: Path, target: Path) -> None:
    """A copy of ``source`` as an older version wrote it: the same files, no ``machine`` in the manifest."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "respaldo.json":
                raw = json.loads(data)
                raw.pop("machine")
                data = json.dumps(raw).encode()
            zout.writestr(info, data)


def test_what_a_manifest_said_is_remembered_so_later_runs_read_no_manifest(shop, monkeypatch):
    one, two, dest = shop
    renamed = dest / "respaldo_2020-01-01_00-00-00.zip"
    two.back_up().rename(renamed)
    two_id = two.me().id
    me = one.me()
    assert backup.own_archives(dest, me) == []
    cached = json.loads((one.data_dir / ownership.CACHE_FILE_NAME).read_text())
    assert cached[str(renamed)][2]["id"] == two_id

    def no_reading(path, zf=None):
        raise AssertionError(f"manifest of {path} read again")

    monkeypatch.setattr(ownership, "read_manifest", no_reading)
    ownership._cache._entries = None  # as a new process: loaded from the file
    assert backup.own_archives(dest, me) == []
