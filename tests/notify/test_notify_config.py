"""``[notify]`` in the config file: every key optional, every problem listed with its key path."""

from __future__ import annotations

import subprocess
import tomllib

import pytest

from tests.helpers import ROOT, respaldos_cmd
from wizard.core import config
from wizard.core.errors import ConfigError

BASE = '[source]\npaths = ["/d"]\n[destination]\nfolder = "/r"\n'
DOCUMENTED = BASE + """
[notify]
on = ["failure", "overdue", "weekly"]
email_to = ["dueno@ejemplo.mx"]
smtp_host = "smtp.gmail.com"
smtp_port = 587
smtp_security = "starttls"
smtp_user = "tienda.avisos@gmail.com"
smtp_from = ""
telegram_chat_id = "123456789"
ping_url = "https://hc-ping.com/5b7f0c1e-2a3d-4e5f-8a9b-0c1d2e3f4a5b"
"""


def load_text(tmp_path, text):
    path = tmp_path / "respaldos.toml"
    path.write_text(text, encoding="utf-8")
    return config.load(path)


def problems(tmp_path, block: str) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        load_text(tmp_path, BASE + "[notify]\n" + block)
    return [line.strip() for line in str(exc.value).splitlines()[1:-1]]


def test_without_a_notify_section_the_defaults_are_failure_and_overdue_and_no_channel(tmp_path):
    cfg = load_text(tmp_path, BASE)

    assert cfg.notify == config.NotifyConfig()
    assert cfg.notify.on == ["failure", "overdue"] and cfg.notify.smtp_port == 587
    assert cfg.notify.smtp_security == "starttls" and not cfg.notify.email_to


def test_the_documented_block_loads_and_the_sender_defaults_to_the_user(tmp_path):
    cfg = load_text(tmp_path, DOCUMENTED)

    assert cfg.notify.on == ["failure", "overdue", "weekly"]
    assert cfg.notify.email_to == ["dueno@ejemplo.mx"] and cfg.notify.sender == "tienda.avisos@gmail.com"
    assert cfg.notify.telegram_chat_id == "123456789"


def test_every_problem_of_the_notify_section_is_listed_with_its_key(tmp_path):
    found = problems(tmp_path, 'on = ["failure", "siempre"]\nemail_to = ["dueno-arroba-ejemplo.mx"]\n'
                               'smtp_host = "smtp.ejemplo.mx"\nsmtp_port = 70000\nsmtp_security = "none"\n'
                               'smtp_user = "dueno@ejemplo.mx"\nping_url = "hc-ping.com/abc"\n'
                               'telegram_chat_id = "mi chat"\n')

    assert found == [
        'notify.on[1]: "siempre" no es un aviso válido (usa failure, overdue, success, weekly)',
        'notify.email_to[0]: "dueno-arroba-ejemplo.mx" no es una dirección de correo válida',
        "notify.smtp_port: 70000 no es un puerto válido (un número de 1 a 65535)",
        ('notify.smtp_security: "none" envía la contraseña y los avisos sin cifrar: solo sirve para un servidor en '
        'esta computadora; con smtp.ejemplo.mx usa "starttls" o "ssl"'),
        ('notify.telegram_chat_id: "mi chat" no es un chat de Telegram válido (un número, como 123456789 o '
        '-1001234567890, o un canal como @mi_canal)'),
        'notify.ping_url: "hc-ping.com/abc" no es una dirección válida (por ejemplo "https://hc-ping.com/<código>")',
    ]


@pytest.mark.parametrize(("block", "expected"), [
    ('smtp_security = "tls"\n', 'notify.smtp_security: "tls" no es válido (usa "starttls", "ssl" o "none")'),
    ('email_to = ["a@b.mx"]\nsmtp_user = "a@b.mx"\n', "notify.smtp_host: indica el servidor de correo"),
    ('smtp_host = "smtp.gmail.com:587"\n', ("notify.smtp_host: \"smtp.gmail.com:587\" no es un servidor válido: el "
                                           "puerto va aparte, en smtp_port")),
    ('email_to = ["a@b.mx"]\nsmtp_host = "smtp.b.mx"\nsmtp_user = "apikey"\n',
     "notify.smtp_from: indica la dirección del remitente"),
    ('smtp_password = "secreta"\n', ('notify.smtp_password: la contraseña o el token no van en la configuración: '
                                    'guárdalo con "respaldos notify password smtp"')),
    ("smtp_port = 0\n", "notify.smtp_port: 0 no es un puerto válido"),
    ('email_to = "a@b.mx"\n', "notify.email_to: debe ser una lista de direcciones"),
    ('color = "rojo"\n', "notify.color: clave desconocida"),
])
def test_a_bad_value_is_named_with_its_key(tmp_path, block, expected):
    found = problems(tmp_path, block)
    assert any(line.startswith(expected) for line in found), found
    assert len(found) == 1, found


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "::1"])
def test_plain_smtp_is_accepted_for_a_server_on_this_computer(tmp_path, host):
    cfg = load_text(tmp_path, BASE + f'[notify]\nemail_to = ["a@b.mx"]\nsmtp_host = "{host}"\nsmtp_port = 25\n'
                                     'smtp_security = "none"\nsmtp_from = "caja@b.mx"\n')
    assert cfg.notify.smtp_security == "none"


def test_saving_leaves_out_an_untouched_notify_section_and_keeps_a_configured_one(tmp_path):
    cfg = load_text(tmp_path, BASE)
    path = tmp_path / "guardada.toml"
    config.save(cfg, path)
    assert "notify" not in tomllib.loads(path.read_text(encoding="utf-8"))

    cfg.notify.telegram_chat_id = "123456789"
    cfg.notify.on = ["failure", "weekly"]
    config.save(cfg, path)

    assert tomllib.loads(path.read_text(encoding="utf-8"))["notify"] == {
        "on": ["failure", "weekly"], "telegram_chat_id": "123456789"}
    assert config.load(path) == cfg


def test_the_cli_refuses_a_bad_notify_section_with_exit_2(tmp_path):
    path = tmp_path / "respaldos.toml"
    path.write_text(BASE + '[notify]\non = ["nunca"]\n', encoding="utf-8")

    proc = subprocess.run(respaldos_cmd("--config", str(path), "notify", "test"), cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)

    assert proc.returncode == 2
    assert 'notify.on[0]: "nunca" no es un aviso válido' in proc.stderr and "Traceback" not in proc.stderr


def test_notify_test_without_any_channel_says_what_to_configure(tmp_path):
    path = tmp_path / "respaldos.toml"
    path.write_text(BASE, encoding="utf-8")

    proc = subprocess.run(respaldos_cmd("--config", str(path), "notify", "test"), cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)

    assert proc.returncode == 2
    assert "No hay avisos configurados" in proc.stderr
