"""The config file: one validator, every problem at once with its key path, atomic saves."""

from __future__ import annotations

import subprocess
import tomllib

import pytest

from tests.helpers import respaldos_cmd
from wizard.core import config
from wizard.core.errors import ConfigError

EXAMPLE = """
[source]
paths = ["C:/SICAR/datos"]
exclude = ["*.log", "temp/"]
[destination]
folder = "E:/Respaldos"
[schedule]
frequency = "weekly"
weekdays = ["friday"]
time = "20:00"
catch_up = true
[retention]
keep_last = 10
keep_daily = 7
keep_weekly = 4
keep_monthly = 12
[cloud]
provider = "none"
folder = "/Respaldos"
"""


def load_text(tmp_path, text):
    path = tmp_path / "respaldos.toml"
    path.write_text(text, encoding="utf-8")
    return config.load(path)


def test_the_documented_example_loads_with_every_value(tmp_path):
    cfg = load_text(tmp_path, EXAMPLE)
    assert cfg.source.paths == ["C:/SICAR/datos"]
    assert cfg.source.exclude == ["*.log", "temp/"]
    assert cfg.destination.folder == "E:/Respaldos"
    assert cfg.schedule.frequency == "weekly" and cfg.schedule.weekdays == ["friday"]
    assert cfg.schedule.time == "20:00" and cfg.schedule.catch_up is True
    assert (cfg.retention.keep_last, cfg.retention.keep_daily, cfg.retention.keep_weekly,
            cfg.retention.keep_monthly) == (10, 7, 4, 12)
    assert cfg.cloud.provider == "none" and cfg.cloud.folder == "/Respaldos"


def test_omitted_sections_take_the_documented_defaults(tmp_path):
    cfg = load_text(tmp_path, '[source]\npaths = ["/datos"]\n[destination]\nfolder = "/r"\n')
    assert cfg.schedule == config.ScheduleConfig(frequency="daily", weekdays=[], time="20:00", catch_up=True)
    assert cfg.retention == config.RetentionConfig(10, 7, 4, 12)
    assert cfg.cloud.provider == "none" and cfg.cloud.folder == "/Respaldos"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[source]\npaths = ["/d"]\n[destination]\nfolder = "/r"\n[schedule]\ntime = "25:00"\n',
         'schedule.time: "25:00" no es una hora válida (HH:MM)'),
        ('[source]\npaths = ["/d"]\n[destination]\nfolder = "/r"\n[schedule]\ntime = "8:00"\n',
         'schedule.time: "8:00" no es una hora válida (HH:MM)'),
        ('[source]\npaths = ["/d"]\n[destination]\nfolder = "/r"\n[schedule]\nfrequency = "weekly"\n'
         'weekdays = ["viernes"]\n', 'schedule.weekdays[0]: "viernes" no es un día válido'),
        ('[source]\npaths = ["/d"]\n[destination]\nfolder = "/r"\n[schedule]\nfrequency = "weekly"\n',
         'schedule.weekdays: con frequency = "weekly" indica al menos un día'),
        ('[source]\npaths = []\n[destination]\nfolder = "/r"\n', "source.paths: la lista está vacía"),
        ('[source]\npaths = ["/d"]\ncolor = "azul"\n[destination]\nfolder = "/r"\n',
         "source.color: clave desconocida"),
        ('[source]\npaths = ["/d"]\n[destination]\nfolder = "/r"\n[extra]\na = 1\n', "extra: sección desconocida"),
        ('[source]\npaths = "/d"\n[destination]\nfolder = "/r"\n', "source.paths: debe ser una lista"),
        ('[source]\npaths = ["/d"]\n[destination]\nfolder = 3\n', "destination.folder: debe ser una ruta"),
        ('[source]\npaths = ["/d"]\n[destination]\nfolder = "/r"\n[retention]\nkeep_last = -1\n',
         "retention.keep_last: -1 no es válido"),
        ('[source]\npaths = ["/d"]\n[destination]\nfolder = "/r"\n[retention]\nkeep_daily = "7"\n',
         'retention.keep_daily: "7" no es válido'),
        ('[source]\npaths = ["/d"]\n[destination]\nfolder = "/r"\n[schedule]\ncatch_up = "si"\n',
         "schedule.catch_up: debe ser true o false"),
        ('[source]\npaths = ["/d"]\n[destination]\nfolder = "/r"\n[cloud]\nprovider = "onedrive"\n',
         'cloud.provider: "onedrive" no es válido'),
        # values are shown as written in TOML, not as Python would print them
        ('[source]\npaths = ["/d"]\n[destination]\nfolder = "/r"\n[schedule]\ntime = 20:00:00\n',
         "schedule.time: 20:00:00 no es una hora válida (HH:MM)"),
        ('[source]\npaths = ["/d"]\n[destination]\nfolder = "/r"\n[schedule]\nfrequency = true\n',
         'schedule.frequency: true no es válido'),
        ('[source]\npaths = ["/d"]\n[destination]\nfolder = "/r"\n[schedule]\nfrequency = ["weekly"]\n',
         'schedule.frequency: ["weekly"] no es válido'),
        ('[destination]\nfolder = "/r"\n', "source: falta la sección [source]"),
        ('[source]\npaths = ["/d"]\n', "destination: falta la sección [destination]"),
    ],
)
def test_each_bad_config_is_named_with_its_key_path(tmp_path, text, expected):
    with pytest.raises(ConfigError) as info:
        load_text(tmp_path, text)
    message = str(info.value)
    assert expected in message
    assert str(tmp_path / "respaldos.toml") in message


def test_every_problem_is_listed_at_once(tmp_path):
    text = ('[source]\npaths = []\n[destination]\nfolder = "/r"\n[schedule]\ntime = "25:00"\n'
            'frequency = "weekly"\nweekdays = ["fridya"]\n[retention]\nkeep_last = -2\n')
    with pytest.raises(ConfigError) as info:
        load_text(tmp_path, text)
    message = str(info.value)
    for key in ("source.paths", "schedule.time", "schedule.weekdays[0]", "retention.keep_last"):
        assert f"  {key}:" in message


def test_a_file_that_is_not_toml_names_the_file_and_the_line(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_text(tmp_path, '[source]\npaths = ["/d"]\nexclude = = 1\n')
    assert "no es un TOML válido" in str(info.value) and "line 3" in str(info.value)


def test_a_missing_config_says_how_to_create_one(tmp_path):
    with pytest.raises(ConfigError) as info:
        config.load(tmp_path / "nada.toml")
    assert "Abre Respaldos para configurar" in str(info.value)


def test_the_cli_exits_2_without_traceback_on_a_bad_config(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[source]\npaths = ["/d"]\n[destination]\nfolder = "/r"\n[schedule]\ntime = "25:00"\n')
    proc = subprocess.run(respaldos_cmd("backup", "--config", str(path)), capture_output=True, text=True)
    assert proc.returncode == 2
    assert 'schedule.time: "25:00" no es una hora válida (HH:MM)' in proc.stderr
    assert "Traceback" not in proc.stderr


def test_respaldos_config_env_var_points_to_the_config(tmp_path, monkeypatch):
    path = tmp_path / "otro.toml"
    path.write_text('[source]\npaths = ["/d"]\n[destination]\nfolder = "/r"\n[schedule]\ntime = "99:00"\n')
    env_proc = subprocess.run(respaldos_cmd("list"), capture_output=True, text=True,
                              env={**__import__("os").environ, "RESPALDOS_CONFIG": str(path)})
    assert env_proc.returncode == 2 and str(path) in env_proc.stderr


def test_save_writes_a_config_that_loads_back_equal(tmp_path):
    cfg = config.Config()
    cfg.source.paths = ["C:/SICAR/datos", "C:/SICAR/imágenes con espacio"]
    cfg.destination.folder = "E:/Respaldos"
    cfg.schedule.frequency = "weekly"
    cfg.schedule.weekdays = ["friday", "monday"]
    path = tmp_path / "sub" / "respaldos.toml"
    config.save(cfg, path)
    loaded = config.load(path)
    assert loaded.source.paths == cfg.source.paths
    assert loaded.schedule.weekdays == ["monday", "friday"]
    assert tomllib.loads(path.read_text(encoding="utf-8"))["destination"]["folder"] == "E:/Respaldos"
    assert [p.name for p in path.parent.iterdir()] == ["respaldos.toml"]  # no temp file left


def test_save_refuses_an_invalid_config_and_keeps_the_old_file(tmp_path):
    path = tmp_path / "respaldos.toml"
    path.write_text(EXAMPLE, encoding="utf-8")
    cfg = config.load(path)
    cfg.schedule.time = "24:61"
    with pytest.raises(ConfigError):
        config.save(cfg, path)
    assert path.read_text(encoding="utf-8") == EXAMPLE


def test_save_sets_aside_a_previous_file_that_does_not_parse(tmp_path):
    path = tmp_path / "respaldos.toml"
    path.write_text("esto no es toml [[[", encoding="utf-8")
    cfg = config.Config(source=config.SourceConfig(paths=["/d"]),
                        destination=config.DestinationConfig(folder="/r"))
    config.save(cfg, path)
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("respaldos.toml.invalido-")]
    assert len(aside) == 1 and aside[0].read_text() == "esto no es toml [[["
    assert config.load(path).destination.folder == "/r"


def test_the_window_and_the_file_share_one_validator():
    cfg = config.Config(source=config.SourceConfig(paths=[]), destination=config.DestinationConfig(folder="/r"))
    cfg.schedule.time = "7:5"
    keys = {p.key for p in config.validate(cfg)}
    assert keys == {"source.paths", "schedule.time"}


def test_a_database_entry_that_is_not_a_table_does_not_hide_the_problems_of_the_others(tmp_path):
    text = ('[source]\npaths = ["/d"]\ndatabases = [1, {engine = "postgres", database = "x"}]\n'
            '[destination]\nfolder = "/r"\n')
    with pytest.raises(ConfigError) as info:
        load_text(tmp_path, text)
    message = str(info.value)
    assert "source.databases[0]: debe ser una tabla [[source.databases]]" in message
    assert 'source.databases[1].engine: "postgres" no es válido' in message


def test_test_restore_is_weekly_by_default_and_old_files_stay_valid(tmp_path):
    assert load_text(tmp_path, EXAMPLE).schedule.test_restore == "weekly"
    for value in ("weekly", "monthly", "off"):
        cfg = load_text(tmp_path, EXAMPLE.replace("catch_up = true", f'catch_up = true\ntest_restore = "{value}"'))
        assert cfg.schedule.test_restore == value
        config.save(cfg, tmp_path / "saved.toml")
        assert config.load(tmp_path / "saved.toml").schedule.test_restore == value


@pytest.mark.parametrize("value, shown", [('"daily"', '"daily"'), ("true", "true"), ('"semanal"', '"semanal"')])
def test_test_restore_accepts_only_weekly_monthly_or_off(tmp_path, value, shown):
    with pytest.raises(ConfigError) as info:
        load_text(tmp_path, EXAMPLE.replace("catch_up = true", f"catch_up = true\ntest_restore = {value}"))
    assert f'schedule.test_restore: {shown} no es válido (usa "weekly", "monthly" u "off")' in str(info.value)
