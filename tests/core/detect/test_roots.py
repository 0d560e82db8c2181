"""Where the search looks: this system's usual places, most likely first."""

from __future__ import annotations

import os
import sys

import pytest

from wizard.core.detect import roots


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="the Linux list")
def test_on_linux_the_home_folder_comes_first_then_the_usual_places_that_exist(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    found = roots.default_roots()
    assert found[0] == str(tmp_path)
    assert all(os.path.isdir(p) for p in found) and len(found) == len(set(found))
    assert set(found) - {str(tmp_path)} <= {"/opt", "/srv", "/var/lib", "/usr/local", "/home"}
    assert "/" not in found and "/proc" not in found


def test_on_windows_program_folders_and_the_users_documents_come_before_the_drives(monkeypatch):
    monkeypatch.setenv("ProgramFiles", r"C:\Program Files")
    monkeypatch.setenv("ProgramFiles(x86)", r"C:\Program Files (x86)")
    monkeypatch.setenv("ProgramData", r"C:\ProgramData")
    monkeypatch.setenv("USERPROFILE", r"C:\Users\Tienda")
    asked = []
    monkeypatch.setattr(roots, "windows_drives", lambda removable=False: asked.append(removable) or ["C:\\", "D:\\"])
    found = roots.windows_roots(include_removable=False)
    assert found[:3] == [r"C:\Program Files", r"C:\Program Files (x86)", r"C:\ProgramData"]
    assert found[3:5] == [os.path.join(r"C:\Users\Tienda", "Documents"), os.path.join(r"C:\Users\Tienda", "Desktop")]
    assert found[5:] == ["C:\\", "D:\\"] and asked == [False]
    roots.windows_roots(include_removable=True)
    assert asked == [False, True]


def test_a_given_root_list_is_searched_as_given(tmp_path):
    from wizard.core.detect import detect

    result = detect([str(tmp_path / "b"), str(tmp_path / "a")], look_for_servers=False)
    assert result.roots == [str(tmp_path / "b"), str(tmp_path / "a")]
    assert result.unreadable == [str(tmp_path / "b"), str(tmp_path / "a")]  # missing folders are said, not hidden
