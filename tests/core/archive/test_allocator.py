"""glibc's allocator is tuned on glibc only, and whether it is glibc is decided once."""

from __future__ import annotations

import pytest

from wizard.core.archive import CHUNK_SIZE, ZipWriter
from wizard.core.archive import allocator as allocator_module


# -- glibc's allocator: tuned on glibc only, decided once ------------------------------------------------------
class Allocator:
    """Stands in for ctypes.CDLL(None): records mallopt calls, and how often the libc was asked about."""

    def __init__(self, monkeypatch, platform_name: str, libc: tuple[str, str]):
        import ctypes
        import platform as platform_module

        self.mallopt_calls: list[tuple[int, int]] = []
        self.libc_asked = 0
        monkeypatch.setattr(allocator_module, "_allocator_tuned", False)
        monkeypatch.setattr(allocator_module.sys, "platform", platform_name)

        def libc_ver(*args, **kwargs):
            self.libc_asked += 1
            return libc

        monkeypatch.setattr(platform_module, "libc_ver", libc_ver)
        allocator = self

        class FakeLibc:
            def mallopt(self, param, value):
                allocator.mallopt_calls.append((param, value))
                return 1

        monkeypatch.setattr(ctypes, "CDLL", lambda name: FakeLibc())


@pytest.mark.parametrize(("platform_name", "libc"), [("win32", ("", "")), ("darwin", ("", "")),
                                                      ("linux", ("", "")), ("linux", ("libc", "1.2.4"))])
def test_the_allocator_is_left_alone_without_glibc_and_the_libc_is_asked_about_once(monkeypatch, tmp_path,
                                                                                   platform_name, libc):
    allocator = Allocator(monkeypatch, platform_name, libc)
    for name in ("a.zip", "b.zip"):
        with open(tmp_path / name, "xb") as fp:
            ZipWriter(fp).close()
    assert allocator.mallopt_calls == []
    assert allocator.libc_asked <= 1


def test_on_glibc_freed_chunk_buffers_are_kept_for_the_next_chunks(monkeypatch, tmp_path):
    allocator = Allocator(monkeypatch, "linux", ("glibc", "2.36"))
    for name in ("a.zip", "b.zip"):
        with open(tmp_path / name, "xb") as fp:
            ZipWriter(fp).close()
    assert allocator.mallopt_calls == [(-3, 8 * CHUNK_SIZE), (-1, 256 << 20)]  # M_MMAP_THRESHOLD, M_TRIM_THRESHOLD
    assert allocator.libc_asked == 1
