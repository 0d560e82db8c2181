"""Server databases in the configuration ([[source.databases]]): valid alone, round-tripped, every
problem reported with its key path.
"""

from __future__ import annotations

import subprocess

from tests.helpers import ROOT, respaldos_cmd
from wizard.core import config


def test_a_config_with_databases_only_is_valid_and_round_trips(tmp_path):
    path = tmp_path / "respaldos.toml"
    path.write_text("""
[source]
[[source.databases]]
engine = "mysql"
host = "localhost"
database = "sicar"
user = "root"
[[source.databases]]
engine = "firebird"
host = "servidor-caja"
port = 3051
path = 'C:\\SICAR\\DATOS.FDB'
client = 'C:\\Program Files\\Firebird\\Firebird_3_0'
[destination]
folder = "/respaldos"
""", encoding="utf-8")
    cfg = config.load(path)
    assert cfg.source.paths == []
    mysql, fb = cfg.source.databases
    assert (mysql.label, mysql.effective_port, mysql.effective_user) == ("sicar", 3306, "root")
    assert (fb.label, fb.effective_port, fb.effective_user) == ("DATOS", 3051, "SYSDBA")
    config.save(cfg, path)
    assert config.load(path) == cfg
    text = path.read_text(encoding="utf-8")
    assert "[[source.databases]]" in text and "password" not in text


def test_every_problem_in_the_databases_is_reported_with_its_key_path(tmp_path):
    path = tmp_path / "respaldos.toml"
    path.write_text("""
[source]
paths = []
[[source.databases]]
engine = "postgres"
database = "x"
[[source.databases]]
engine = "mysql"
password = "no-va-aqui"
port = 70000
[[source.databases]]
engine = "firebird"
database = "sicar"
[[source.databases]]
engine = "mysql"
database = "sicar"
host = ""
colour = "azul"
[[source.databases]]
engine = "mysql"
database = "SICAR"
[destination]
folder = "/respaldos"
""", encoding="utf-8")
    done = subprocess.run(respaldos_cmd("backup", "--config", str(path)), capture_output=True, text=True, cwd=ROOT,
                          timeout=60, check=False)
    assert done.returncode == 2
    assert done.stderr.splitlines()[1:-1] == [
        '  source.databases[0].engine: "postgres" no es válido (usa "mysql" o "firebird")',
        ('  source.databases[1].password: la contraseña no va en la configuración: guárdala con "respaldos db '
         'password NOMBRE" o desde la ventana'),
        "  source.databases[1].port: 70000 no es un puerto válido (un número de 1 a 65535)",
        "  source.databases[1].database: falta el nombre de la base de datos",
        "  source.databases[2].path: falta la ruta del archivo de la base de datos en el servidor (o su alias)",
        '  source.databases[2].database: con engine = "firebird" indica la ruta del archivo en path, no en database',
        "  source.databases[3].colour: clave desconocida",
        '  source.databases[3].host: indica el equipo del servidor, por ejemplo "localhost"',
        '  source.databases[4].name: "SICAR" ya es el nombre de source.databases[3]; pon otro en name',
    ]
    assert "no-va-aqui" not in done.stderr
    assert "Traceback" not in done.stderr


def test_an_empty_source_is_still_refused(tmp_path):
    problems = config.validate_dict({"source": {"paths": [], "databases": []}, "destination": {"folder": "/r"}})
    assert [str(p) for p in problems] == ["source.paths: la lista está vacía: indica al menos una carpeta o archivo"]
    problems = config.validate_dict({"source": {"databases": {"engine": "mysql"}}, "destination": {"folder": "/r"}})
    assert [p.key for p in problems] == ["source.databases", "source.paths"]
