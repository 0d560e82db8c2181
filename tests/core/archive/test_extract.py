"""Restoring into a folder: identical files with their mtimes, never over a folder that is not empty
without --force, nothing written anywhere for a zip-slip archive, no temporary file left over."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.core.archive.helpers import (
    BIG_MEMBER,
    EVIL_NAMES,
    FIRST_MTIME,
    SHOP_FILES,
    SHOP_ROOT,
    expected_tree,
    flip_byte_in_member,
    respaldos,
    tree,
    zip_slip_archive,
)


# -- restore ---------------------------------------------------------------------------------------------
def test_restore_extracts_identical_files_with_their_mtimes(shop_archive, tmp_path):
    target = tmp_path / "restaurado aquí"
    proc = respaldos("restore", str(shop_archive), "--to", str(target))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"Se restauraron {len(SHOP_FILES)} archivos en {target}."
    assert tree(target) == expected_tree()
    for i, rel in enumerate(SHOP_FILES):
        assert (target / SHOP_ROOT / rel).stat().st_mtime == FIRST_MTIME + 120 * i


def test_restore_refuses_a_folder_that_is_not_empty_and_writes_nothing(shop_archive, tmp_path):
    target = tmp_path / "caja"
    (target / SHOP_ROOT).mkdir(parents=True)
    (target / "pedido.txt").write_text("pedido del lunes", encoding="utf-8")
    (target / SHOP_ROOT / "vacío.txt").write_text("versión vieja", encoding="utf-8")
    before = tree(target)
    proc = respaldos("restore", str(shop_archive), "--to", str(target))
    assert proc.returncode == 1
    assert proc.stderr == (f"La carpeta {target} no está vacía. Elige una carpeta vacía o usa --force "
                           "para escribir encima.\n")
    assert tree(target) == before
    assert sorted(p.name for p in target.rglob("*")) == sorted([SHOP_ROOT, "pedido.txt", "vacío.txt"])


def test_restore_with_force_writes_over_a_folder_that_is_not_empty(shop_archive, tmp_path):
    target = tmp_path / "caja"
    (target / SHOP_ROOT).mkdir(parents=True)
    (target / "pedido.txt").write_text("pedido del lunes", encoding="utf-8")
    (target / SHOP_ROOT / "vacío.txt").write_text("versión vieja", encoding="utf-8")
    proc = respaldos("restore", str(shop_archive), "--to", str(target), "--force")
    assert proc.returncode == 0, proc.stderr
    assert tree(target) == {**expected_tree(), "pedido.txt": b"pedido del lunes"}


@pytest.mark.parametrize("evil_name", EVIL_NAMES)
def test_restore_refuses_a_zip_slip_archive_and_writes_nothing_anywhere(tmp_path, evil_name):
    archive = zip_slip_archive(tmp_path / "respaldo_trampa.zip", evil_name)
    parent = tmp_path / "jaula"
    target = parent / "restaurar aquí"
    target.mkdir(parents=True)
    workdir = tmp_path / "trabajo"
    workdir.mkdir()
    assert not Path("/abs").exists()
    proc = respaldos("restore", str(archive), "--to", str(target), cwd=workdir)
    assert proc.returncode == 1
    assert proc.stderr == (f"El respaldo {archive.name} contiene una ruta no permitida ({evil_name}); "
                           "no se restauró nada.\n")
    assert "Traceback" not in proc.stderr
    assert list(target.iterdir()) == []
    assert list(parent.iterdir()) == [target]
    assert list(workdir.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["jaula", "respaldo_trampa.zip", "trabajo"]
    assert not Path("/abs").exists()


def test_restore_refuses_a_damaged_member_and_leaves_no_temporary_file(shop_archive, tmp_path):
    flip_byte_in_member(shop_archive, BIG_MEMBER)
    target = tmp_path / "restaurado"
    proc = respaldos("restore", str(shop_archive), "--to", str(target))
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"El respaldo {shop_archive.name} está dañado: {BIG_MEMBER} ")
    assert "Traceback" not in proc.stderr
    leftovers = [p for p in target.rglob("*") if p.name.endswith(".restaurando")]
    assert leftovers == []
    assert not (target / BIG_MEMBER).exists()
