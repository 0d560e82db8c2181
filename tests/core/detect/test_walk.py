"""The walk over real folders: what it finds, what it never enters, the time budget and cancel."""

from __future__ import annotations

import itertools
import os
import shutil
import threading
from pathlib import Path

from tests.core.detect.conftest import ACCESS_JET, make_sqlite
from wizard.core.detect import detect, walk


def shop(root: Path, firebird_file: Path) -> dict[str, str]:
    """A small disk: POS databases under odd names among ordinary files. {path: kind} of the databases."""
    make_sqlite(root / "PuntoVenta" / "datos" / "ventas.dat")
    make_sqlite(root / "Tienda" / "CAJA")
    (root / "Tienda" / "notas.db").write_text("no soy una base de datos\n" * 100, encoding="utf-8")
    (root / "Tienda" / "foto.jpg").write_bytes(b"SQLite format 3\x00" + bytes(2000))  # pictures are not read
    (root / "Abarrotes" / "AbarrotesPDV").mkdir(parents=True)
    shutil.copyfile(firebird_file, root / "Abarrotes" / "AbarrotesPDV" / "PDVDATA.FDB")
    (root / "Oficina").mkdir()
    (root / "Oficina" / "clientes.mdb").write_bytes(ACCESS_JET)
    return {
        str(root / "PuntoVenta" / "datos" / "ventas.dat"): "sqlite",
        str(root / "Tienda" / "CAJA"): "sqlite",
        str(root / "Abarrotes" / "AbarrotesPDV" / "PDVDATA.FDB"): "firebird",
        str(root / "Oficina" / "clientes.mdb"): "access",
    }


def test_databases_are_found_by_content_and_named_after_their_program(tmp_path, firebird_file):
    expected = shop(tmp_path, firebird_file)
    result = detect([str(tmp_path)], look_for_servers=False)
    assert {f.path: f.kind for f in result.found} == expected
    assert result.stopped is None and result.not_covered == [] and result.unreadable == []
    eleventa = next(f for f in result.found if f.kind == "firebird")
    assert eleventa.program == "eleventa" and any("Cierre el programa" in n for n in eleventa.notes)
    assert result.found[0] is eleventa  # a known program's database comes first
    assert all(f.size and f.modified for f in result.found)


def test_links_are_never_followed_so_a_loop_ends(tmp_path):
    make_sqlite(tmp_path / "a" / "b" / "ventas.sqlite")
    os.symlink(tmp_path, tmp_path / "a" / "b" / "vuelta")
    outside = make_sqlite(tmp_path.parent / f"{tmp_path.name}-fuera" / "otra.db")
    os.symlink(outside.parent, tmp_path / "a" / "atajo")
    result = walk.walk([str(tmp_path)])
    assert [f.path for f in result.files] == [str(tmp_path / "a" / "b" / "ventas.sqlite")]


def test_a_root_inside_another_is_walked_once(tmp_path):
    make_sqlite(tmp_path / "dentro" / "ventas.db")
    result = walk.walk([str(tmp_path), str(tmp_path / "dentro")])
    assert len(result.files) == 1


def deep_tree(root: Path, depth: int = 12, width: int = 3) -> list[str]:
    """A tree ``depth`` folders deep with ``width`` branches at the top levels, one database per leaf folder."""
    made = []
    for branch in range(width):
        folder = root / f"rama{branch}"
        for level in range(depth):
            folder = folder / f"nivel{level}"
        made.append(str(make_sqlite(folder / "caja.db")))
    return made


class TickClock:
    """A clock that moves 10 ms each time it is read: the budget runs out after a known amount of work."""

    def __init__(self) -> None:
        self.ticks = itertools.count()

    def __call__(self) -> float:
        return next(self.ticks) * 0.01


def test_the_time_budget_stops_the_walk_and_says_what_was_not_covered(tmp_path):
    made = deep_tree(tmp_path)
    result = walk.walk([str(tmp_path)], budget=0.5, clock=TickClock())
    assert result.stopped == "budget"
    assert result.not_covered, "it must say which folders it did not look at"
    found = {f.path for f in result.files}
    assert found != set(made)
    # every database is either found or inside a folder it said it did not cover
    for path in made:
        assert path in found or any(path.startswith(folder + os.sep) for folder in result.not_covered), path
    depths = [len(Path(folder).parts) for folder in result.not_covered]
    assert depths == sorted(depths)  # the shallowest (most telling) first
    # and nothing it reported as not covered was actually searched
    assert not any(p.startswith(folder + os.sep) for p in found for folder in result.not_covered)


def test_with_a_budget_of_zero_nothing_is_covered_and_the_roots_are_listed(tmp_path):
    deep_tree(tmp_path, depth=2, width=2)
    result = walk.walk([str(tmp_path / "rama0"), str(tmp_path / "rama1")], budget=0)
    assert result.stopped == "budget" and result.files == []
    assert result.not_covered == [str(tmp_path / "rama0"), str(tmp_path / "rama1")]


def test_cancel_stops_the_walk(tmp_path):
    deep_tree(tmp_path, depth=3, width=2)
    cancel = threading.Event()
    seen = []

    def progress(folder, folders, found):
        seen.append(folder)
        cancel.set()

    result = walk.walk([str(tmp_path)], cancel=cancel, progress=progress)
    assert seen and result.stopped == "cancel" and result.not_covered


def test_system_folders_are_not_entered(tmp_path):
    make_sqlite(tmp_path / "Windows" / "System32" / "config.db")
    make_sqlite(tmp_path / "node_modules" / "x" / "cache.db")
    make_sqlite(tmp_path / "SICAR" / "datos.db")
    make_sqlite(tmp_path / ".mozilla" / "firefox" / "perfil" / "places.sqlite")  # busy, but a browser's
    make_sqlite(tmp_path / "AppData" / "Local" / "Google" / "Chrome" / "User Data" / "History")
    make_sqlite(tmp_path / "Firebird_3_0" / "security3.fdb")  # the server's own user list
    result = walk.walk([str(tmp_path)])
    assert [f.path for f in result.files] == [str(tmp_path / "SICAR" / "datos.db")]


def test_files_whose_data_is_in_the_cloud_are_never_opened():
    """OneDrive "on demand" files: one read would download the whole file (Windows attributes)."""
    from types import SimpleNamespace

    assert walk.data_elsewhere(SimpleNamespace(st_file_attributes=0x400000 | 0x20))
    assert walk.data_elsewhere(SimpleNamespace(st_file_attributes=0x1000))
    assert not walk.data_elsewhere(SimpleNamespace(st_file_attributes=0x20))  # an ordinary archive-bit file
    assert not walk.data_elsewhere(SimpleNamespace())  # POSIX: no such attributes
