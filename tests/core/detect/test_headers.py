"""What a file is, from its first bytes: real SQLite and Firebird files, Access headers, and look-alikes."""

from __future__ import annotations

import shutil
import struct

from tests.core.detect.conftest import ACCESS_ACE, ACCESS_JET, make_sqlite
from wizard.core.detect import headers


def test_a_sqlite_database_is_known_by_its_header_whatever_its_name(tmp_path):
    for name in ("ventas.dat", "CAJA", "datos.respaldo", "x.db"):
        assert headers.kind_of_file(make_sqlite(tmp_path / name)) == "sqlite"


def test_a_text_file_named_db_is_not_a_database(tmp_path):
    text = tmp_path / "notas.db"
    text.write_text("SQLite format 2 no es una base de datos\n" * 40, encoding="utf-8")
    assert headers.kind_of_file(text) is None


def test_a_real_firebird_database_is_known_by_its_header_page(tmp_path, firebird_file):
    copy = tmp_path / "sin_extension"
    shutil.copyfile(firebird_file, copy)
    head = firebird_file.read_bytes()[:20]
    page_size, ods = struct.unpack_from("<HH", head, 16)
    assert head[0] == 1 and page_size in headers.FIREBIRD_PAGE_SIZES and (ods & 0xFF) >= 12
    assert headers.kind_of_file(copy, copy.stat().st_size) == "firebird"


def test_a_page_that_only_starts_like_firebird_is_not_one(tmp_path, firebird_file):
    real = firebird_file.read_bytes()[:8192]
    odd_page = bytearray(real)
    struct.pack_into("<H", odd_page, 16, 3000)  # not a page size Firebird writes
    old_ods = bytearray(real)
    struct.pack_into("<H", old_ods, 18, 0x8003)  # ODS 3 never shipped
    for i, data in enumerate((odd_page, old_ods)):
        path = tmp_path / f"raro{i}.fdb"
        path.write_bytes(bytes(data))
        assert headers.kind_of_file(path, len(data)) is None
    # a size that is not a whole number of pages
    assert headers.kind_of_header(real, len(real) + 100) is None
    assert headers.kind_of_header(real, len(real)) == "firebird"


def test_access_files_are_known_by_the_jet_or_ace_name_at_offset_4(tmp_path):
    (tmp_path / "ventas.mdb").write_bytes(ACCESS_JET)
    (tmp_path / "ventas.accdb").write_bytes(ACCESS_ACE)
    (tmp_path / "falso.mdb").write_bytes(b"\x00\x01\x00\x00Standard Foo DB\x00" + bytes(2048))
    assert headers.kind_of_file(tmp_path / "ventas.mdb") == "access"
    assert headers.kind_of_file(tmp_path / "ventas.accdb") == "access"
    assert headers.kind_of_file(tmp_path / "falso.mdb") is None


def test_files_shorter_than_one_page_are_not_read(tmp_path):
    small = tmp_path / "corto.db"
    small.write_bytes(b"SQLite format 3\x00" + bytes(100))
    assert headers.kind_of_file(small, small.stat().st_size) is None
