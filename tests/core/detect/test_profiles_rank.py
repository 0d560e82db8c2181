"""The profiles file (every fact with its source), matching finds to programs, ranking, and finds in words."""

from __future__ import annotations

import tomllib

import pytest

from wizard.core.detect import describe, profiles, rank
from wizard.core.detect.found import Found

NOW = 1_800_000_000.0


def test_the_shipped_profiles_parse_and_every_fact_names_its_source():
    loaded = profiles.load_profiles()
    assert {"SICAR", "eleventa"} <= {p.name for p in loaded}
    for profile in loaded:
        assert profile.facts and all(f.source.strip() for f in profile.facts), profile.name
        assert set(profile.kinds) <= {"sqlite", "firebird", "access", "mysql-database"}
    assert any(f.verified and f.source.startswith("https://eleventa.com/") for p in loaded for f in p.facts)


def test_a_profile_without_a_source_is_refused():
    text = '[[program]]\nname = "X"\nkinds = ["sqlite"]\n[[program.facts]]\nfact = "algo"\nsource = " "\n'
    with pytest.raises(ValueError, match="source"):
        profiles.parse(tomllib.loads(text))
    with pytest.raises(ValueError, match="program 1"):
        profiles.parse(tomllib.loads('[[program]]\nname = "X"\nkinds = ["sqlite"]\n'))


@pytest.mark.parametrize(("found", "program"), [
    (Found("mysql-database", host="localhost", port=3306, database="SICAR"), "SICAR"),
    (Found("mysql-database", host="localhost", port=3306, database="tienda"), None),
    (Found("firebird", path="C:\\Archivos de Programa\\AbarrotesPDV\\PDVDATA.FDB"), "eleventa"),
    (Found("firebird", path="D:\\Copias\\pdvdata.fdb"), "eleventa"),  # its file name, anywhere
    (Found("firebird", path="C:\\Program Files\\AbarrotesMultiCaja\\db\\OTRA.FDB"), "eleventa"),
    (Found("sqlite", path="C:\\Program Files\\AbarrotesMultiCaja\\cache.db"), None),  # not its kind of database
    (Found("sqlite", path="/home/tienda/ventas.db"), None),
    (Found("firebird", path="C:\\Program Files (x86)\\Common Files\\Aspel\\Sistemas Aspel\\CAJA4.00\\Datos\\CAJA.FDB"),
     "Aspel (CAJA o SAE)"),
])
def test_finds_are_matched_to_their_program(found, program):
    profiles.apply([found])
    assert found.program == program


def test_a_live_database_of_a_known_program_comes_first():
    old_big = Found("sqlite", path="/a/historico.db", size=5 << 30, modified=NOW - 400 * 86400)
    live = Found("sqlite", path="/a/caja.db", size=2 << 20, modified=NOW - 180)
    known = Found("firebird", path="/p/AbarrotesPDV/PDVDATA.FDB", size=30 << 20, modified=NOW - 120,
                  program="eleventa")
    server = Found("mysql-server", host="localhost", port=3306)
    assert rank.rank([old_big, server, live, known], NOW) == [known, live, server, old_big]


def test_finds_in_words():
    sicar = Found("mysql-database", host="localhost", port=3306, database="sicar", program="SICAR")
    assert describe.headline(sicar) == "Encontramos SICAR: base de datos MySQL 'sicar' en este equipo"
    caja = Found("sqlite", path="/datos/caja.db", size=3 << 20, modified=NOW - 185)
    assert describe.headline(caja) == "Base de datos SQLite: /datos/caja.db"
    assert describe.details(caja, NOW) == "3.0 MB · modificada hace 3 minutos"
    assert describe.age(NOW - 1, NOW) == "modificada hace menos de un minuto"
    assert describe.age(NOW - 60, NOW) == "modificada hace 1 minuto"
    assert describe.age(NOW - 5 * 3600, NOW) == "modificada hace 5 horas"
    assert describe.age(NOW - 3 * 86400, NOW) == "modificada hace 3 días"
    assert describe.age(None, NOW) == ""
