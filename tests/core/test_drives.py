"""wizard.core.drives: folder facts for the destination step and quick sizes for the source step."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT, without_dac_override
from wizard.core import drives


def make_sqlite(path: Path, suffix_rows: int = 10) -> None:
    con = sqlite3.connect(path)
    con.execute("create table t (x text)")
    con.executemany("insert into t values (?)", [("fila %d" % i,) for i in range(suffix_rows)])
    con.commit()
    con.close()


def test_describe_folder_reports_an_existing_writable_folder_and_leaves_no_probe(tmp_path):
    info = drives.describe_folder(tmp_path)
    assert info.exists and info.is_dir and info.writable
    assert info.free_bytes and info.total_bytes and info.free_bytes <= info.total_bytes
    assert list(tmp_path.iterdir()) == []


def test_describe_folder_without_probe_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(drives, "probe_writable", lambda folder: (_ for _ in ()).throw(AssertionError))
    info = drives.describe_folder(tmp_path, probe=False)
    assert info.exists and info.is_dir and info.writable


def test_describe_folder_of_a_missing_folder_still_shows_the_free_space_of_its_disk(tmp_path):
    info = drives.describe_folder(tmp_path / "no" / "existe")
    assert not info.exists and not info.is_dir and not info.writable
    assert info.free_bytes is not None and info.free_bytes > 0


def test_describe_folder_says_a_file_is_not_a_folder(tmp_path):
    target = tmp_path / "archivo.txt"
    target.write_text("hola")
    info = drives.describe_folder(target)
    assert info.exists and not info.is_dir and not info.writable


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_describe_folder_reports_a_read_only_folder_as_not_writable(tmp_path):
    folder = tmp_path / "solo-lectura"
    folder.mkdir()
    folder.chmod(0o500)
    code = ("import json, sys; from wizard.core import drives; i = drives.describe_folder(sys.argv[1]); "
            "print(json.dumps([i.exists, i.writable, i.error]))")
    try:
        # root writes anywhere: its capabilities that bypass permissions are dropped, as for a user
        proc = subprocess.run(without_dac_override([sys.executable, "-c", code, str(folder)]), cwd=ROOT,
                              capture_output=True, text=True, check=False)
    finally:
        folder.chmod(0o700)
    assert proc.returncode == 0, proc.stderr
    exists, writable, error = json.loads(proc.stdout)
    assert exists and not writable and error
    assert list(folder.iterdir()) == [], "the probe left nothing behind"


def test_probe_writable_fails_with_a_reason_when_the_folder_is_gone(tmp_path):
    ok, error = drives.probe_writable(tmp_path / "no-existe")
    assert not ok and error


def test_is_inside_handles_the_folder_itself_children_and_lookalike_siblings(tmp_path):
    data = tmp_path / "SICAR"
    assert drives.is_inside(data, data)
    assert drives.is_inside(data / "respaldos", data)
    assert drives.is_inside(str(data / "a" / ".." / "b"), data)
    assert not drives.is_inside(tmp_path / "SICAR2", data)
    assert not drives.is_inside(tmp_path, data)


@pytest.mark.skipif(os.name != "posix", reason="symlinks")
def test_is_inside_follows_symlinks(tmp_path):
    real = tmp_path / "real"
    (real / "dentro").mkdir(parents=True)
    link = tmp_path / "enlace"
    link.symlink_to(real)
    assert drives.is_inside(link / "dentro", real)


def test_folder_size_counts_bytes_files_and_sqlite_databases_by_header_not_extension(tmp_path):
    data = tmp_path / "datos"
    (data / "img").mkdir(parents=True)
    make_sqlite(data / "pos.db")
    make_sqlite(data / "catalogo.dat")  # a database whatever its extension
    (data / "img" / "foto.jpg").write_bytes(b"x" * 1000)
    (data / "notas.db").write_bytes(b"not a database at all, just text")
    single = tmp_path / "config.ini"
    single.write_bytes(b"y" * 10)
    expected = sum(p.stat().st_size for p in data.rglob("*") if p.is_file()) + 10

    info = drives.folder_size([data, single])

    assert info.files == 5
    assert info.databases == 2
    assert info.total_bytes == expected
    assert info.missing == ()


def test_folder_size_applies_exclusions_by_name_folder_and_relative_path(tmp_path):
    data = tmp_path / "datos"
    (data / "temp").mkdir(parents=True)
    (data / "fotos" / "viejas").mkdir(parents=True)
    (data / "a.log").write_bytes(b"1" * 100)
    (data / "temp" / "x.bin").write_bytes(b"2" * 100)
    (data / "fotos" / "viejas" / "f.jpg").write_bytes(b"3" * 100)
    (data / "fotos" / "nueva.jpg").write_bytes(b"4" * 7)

    info = drives.folder_size([data], exclude=["*.log", "temp/", "fotos/viejas"])

    assert (info.files, info.total_bytes) == (1, 7)


def test_folder_size_leaves_out_a_destination_inside_the_data_and_names_missing_sources(tmp_path):
    data = tmp_path / "datos"
    (data / "respaldos").mkdir(parents=True)
    (data / "respaldos" / "respaldo_2024-01-01_20-00-00.zip").write_bytes(b"z" * 500)
    (data / "ventas.xml").write_bytes(b"v" * 5)

    info = drives.folder_size([data, tmp_path / "no-existe"], skip=[data / "respaldos"])

    assert (info.files, info.total_bytes) == (1, 5)
    assert info.missing == (str(tmp_path / "no-existe"),)


def test_folder_size_stops_early_on_huge_selections(tmp_path):
    for i in range(20):
        (tmp_path / f"f{i}").write_bytes(b"x")
    info = drives.folder_size([tmp_path], max_files=5)
    assert info.truncated and info.files == 5


def test_drive_kind_says_the_root_is_not_removable_or_unknown_and_names_its_mount():
    removable, mount, _label = drives.drive_kind(Path("/"))
    assert removable in (False, None)
    # "/" here, "C:\\" on Windows: a failed detection (None, "", "") does not pass
    assert mount == os.path.abspath(os.sep)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux mount table")
def test_a_mount_under_media_counts_as_removable(monkeypatch):
    monkeypatch.setattr(drives, "_mounts", lambda: [("/dev/fake9", "/media/ana/KINGSTON"), ("overlay", "/")])
    removable, mount, label = drives.drive_kind(Path("/media/ana/KINGSTON/Respaldos"))
    assert removable is True
    assert mount == "/media/ana/KINGSTON"
    assert "KINGSTON" in label


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux mount table")
def test_the_block_device_removable_flag_is_read_from_sys(monkeypatch):
    monkeypatch.setattr(drives, "_mounts", lambda: [("/dev/sdz1", "/srv/disco")])
    monkeypatch.setattr(drives, "_block_device_name", lambda dev: "sdz")
    real_read_text = Path.read_text

    def fake_read_text(self, *args, **kwargs):
        if str(self) == "/sys/block/sdz/removable":
            return "1\n"
        return real_read_text(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", fake_read_text)
    assert drives.drive_kind(Path("/srv/disco/x"))[0] is True


def test_same_disk_is_true_for_two_folders_of_one_file_system(tmp_path):
    (tmp_path / "a").mkdir()
    assert drives.same_disk(tmp_path / "a", tmp_path / "b-no-existe") is True


def test_drives_imports_no_tkinter():
    code = "import sys, wizard.core.drives; sys.exit('tkinter' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parents[2]).returncode == 0
