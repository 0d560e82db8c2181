"""The TOML configuration: dataclasses, one validator, atomic load and save.

The schema is a public contract (support staff edit it by hand); docs/commands.md documents it. Unknown
keys, wrong types and bad values are all collected into one ConfigError naming the file and every key path.
No secret ever goes into this file.
"""

from __future__ import annotations

import logging
import re
import shutil
import time
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from wizard.core.errors import ConfigError
from wizard.core.fsutil import atomic_write_bytes
from wizard.i18n import _

logger = logging.getLogger(__name__)

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
FREQUENCIES = ("daily", "weekly")
TEST_RESTORE = ("weekly", "monthly", "off")  # [schedule] test_restore: how often a backup is test-restored
PROVIDERS = ("none", "dropbox", "google_drive")
TIME_RE = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
ENGINES = ("mysql", "firebird")
ENGINE_PORTS = {"mysql": 3306, "firebird": 3050}
ENGINE_USERS = {"mysql": "root", "firebird": "SYSDBA"}
# A database's name becomes a file name inside the archive and a keyring key.
DB_NAME_RE = re.compile(r"^[^/\\:*?\"<>|\x00-\x1f]+$")


@dataclass
class DatabaseSource:
    """One POS database on a server (``[[source.databases]]``). The password lives in the keyring."""

    engine: str = "mysql"  # "mysql" (MySQL or MariaDB) | "firebird"
    name: str = ""  # how it is called in the archive and the keyring; empty: the database or file name
    host: str = "localhost"
    port: int = 0  # 0: the engine's usual port (3306, 3050)
    database: str = ""  # MySQL/MariaDB: the database name
    path: str = ""  # Firebird: the database file as the server sees it, or its alias
    user: str = ""  # empty: root (MySQL) or SYSDBA (Firebird)
    client: str = ""  # optional: the mysqldump/gbak program, or the folder that holds it

    @property
    def label(self) -> str:
        return database_label(self.engine, self.name, self.database, self.path)

    @property
    def effective_port(self) -> int:
        return self.port or ENGINE_PORTS.get(self.engine, 0)

    @property
    def effective_user(self) -> str:
        return self.user or ENGINE_USERS.get(self.engine, "")

    @property
    def server_database(self) -> str:
        """What the server knows it by: the database name (MySQL/MariaDB) or the file or alias (Firebird)."""
        return self.database if self.engine == "mysql" else self.path


def database_label(engine: str, name: str, database: str, path: str) -> str:
    """The name a database entry goes by: ``name`` if given, else the database name or the file's stem."""
    if name.strip():
        return name.strip()
    if engine == "firebird":
        stem = path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
        return stem.rsplit(".", 1)[0] if "." in stem[1:] else stem
    return database.strip()


@dataclass
class SourceConfig:
    paths: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    databases: list[DatabaseSource] = field(default_factory=list)


@dataclass
class DestinationConfig:
    folder: str = ""


@dataclass
class ScheduleConfig:
    frequency: str = "daily"
    weekdays: list[str] = field(default_factory=list)
    time: str = "20:00"
    catch_up: bool = True
    start_with_system: bool = False
    test_restore: str = "weekly"  # automatic restore drills (wizard.core.drill.plan): weekly | monthly | off


@dataclass
class RetentionConfig:
    keep_last: int = 10
    keep_daily: int = 7
    keep_weekly: int = 4
    keep_monthly: int = 12


@dataclass
class CloudConfig:
    provider: str = "none"
    folder: str = "/Respaldos"
    account: str = ""
    dropbox_app_key: str = ""


@dataclass
class MachineConfig:
    name: str = ""  # how this installation is called ("Caja 1"); empty: the computer's name


NOTIFY_EVENTS = ("failure", "overdue", "success", "weekly")
SMTP_SECURITY = ("starttls", "ssl", "none")


@dataclass
class NotifyConfig:
    """``[notify]``: who hears about failures and missed backups. Passwords and bot tokens live in the keyring."""

    on: list[str] = field(default_factory=lambda: ["failure", "overdue"])
    email_to: list[str] = field(default_factory=list)
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_security: str = "starttls"  # "starttls" | "ssl" | "none" (only to a server on this computer)
    smtp_user: str = ""
    smtp_from: str = ""  # empty: smtp_user
    telegram_chat_id: str = ""
    ping_url: str = ""  # Healthchecks-style: <url>/start, <url>, <url>/fail

    @property
    def sender(self) -> str:
        return self.smtp_from.strip() or self.smtp_user.strip()


@dataclass
class SecretsConfig:
    """``[secrets]``: with no system keyring, whether passwords and tokens may go to a file only this user can
    read, not encrypted (wizard.core.secrets). Off: they are refused with a sentence that says so."""

    allow_file: bool = False


ENCRYPTION_SCOPES = ("cloud", "all")


@dataclass
class EncryptionConfig:
    """``[encryption]``: backups protected with a password (WinZip AES-256, docs/encryption.md). ``scope``
    "cloud": only the copies uploaded; "all": the local archives too. The password lives in the keyring."""

    enabled: bool = False
    scope: str = "cloud"

    def applies_to_local(self) -> bool:
        return self.enabled and self.scope == "all"

    def applies_to_cloud(self) -> bool:
        return self.enabled


@dataclass
class Config:
    source: SourceConfig = field(default_factory=SourceConfig)
    destination: DestinationConfig = field(default_factory=DestinationConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    retention: RetentionConfig = field(default_factory=RetentionConfig)
    cloud: CloudConfig = field(default_factory=CloudConfig)
    machine: MachineConfig = field(default_factory=MachineConfig)
    notify: NotifyConfig = field(default_factory=NotifyConfig)
    secrets: SecretsConfig = field(default_factory=SecretsConfig)
    encryption: EncryptionConfig = field(default_factory=EncryptionConfig)


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a config, with the key path it belongs to (``schedule.time``)."""

    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


SECTIONS: dict[str, type] = {
    "source": SourceConfig,
    "destination": DestinationConfig,
    "schedule": ScheduleConfig,
    "retention": RetentionConfig,
    "cloud": CloudConfig,
    "machine": MachineConfig,
    "notify": NotifyConfig,
    "secrets": SecretsConfig,
    "encryption": EncryptionConfig,
}
MACHINE_NAME_MAX = 60
REQUIRED_SECTIONS = ("source", "destination")


def _show(value: Any) -> str:
    """A value as it is written in the TOML file (``true``, ``20:00:00``, ``["weekly"]``), never Python's repr."""
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_show(v)}" for k, v in value.items()) + "}"
    if hasattr(value, "isoformat"):  # TOML dates and times
        return value.isoformat()
    return str(value)


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_dict(data: dict[str, Any]) -> list[Problem]:
    """Every problem in a parsed config, in file order. An empty list means it is valid."""
    problems: list[Problem] = []
    add = lambda key, msg: problems.append(Problem(key, msg))

    if not isinstance(data, dict):
        return [Problem("(raíz)", _("la configuración debe ser una tabla TOML"))]
    for name in data:
        if name not in SECTIONS:
            add(name, _("sección desconocida (se esperan: {names})").format(names=", ".join(SECTIONS)))
    for name in REQUIRED_SECTIONS:
        if name not in data:
            add(name, _("falta la sección [{name}]").format(name=name))
    for name, cls in SECTIONS.items():
        section = data.get(name)
        if section is None:
            continue
        if not isinstance(section, dict):
            add(name, _("debe ser una sección [{name}]").format(name=name))
            continue
        known = set(cls.__dataclass_fields__)
        for key in section:
            if key not in known and not (name == "notify" and key in NOTIFY_SECRET_KEYS):
                add(f"{name}.{key}", _("clave desconocida"))

    source = data.get("source") if isinstance(data.get("source"), dict) else None
    if source is not None:
        databases = source.get("databases", [])
        _validate_databases(databases, add)
        has_databases = isinstance(databases, list) and bool(databases)
        paths = source.get("paths")
        if paths is None and has_databases:
            pass  # databases only: no folders needed
        elif paths is None:
            add("source.paths", _("falta la lista de carpetas o archivos a respaldar"))
        elif not _is_str_list(paths):
            add("source.paths", _("debe ser una lista de rutas entre comillas"))
        elif not paths and not has_databases:
            add("source.paths", _("la lista está vacía: indica al menos una carpeta o archivo"))
        else:
            for i, p in enumerate(paths):
                if not p.strip():
                    add(f"source.paths[{i}]", _("la ruta está vacía"))
        exclude = source.get("exclude", [])
        if not _is_str_list(exclude):
            add("source.exclude", _("debe ser una lista de patrones entre comillas"))
        else:
            for i, pattern in enumerate(exclude):
                if not pattern.strip():
                    add(f"source.exclude[{i}]", _("el patrón está vacío"))

    dest = data.get("destination") if isinstance(data.get("destination"), dict) else None
    if dest is not None:
        folder = dest.get("folder")
        if folder is None:
            add("destination.folder", _("falta la carpeta donde guardar los respaldos"))
        elif not isinstance(folder, str):
            add("destination.folder", _("debe ser una ruta entre comillas"))
        elif not folder.strip():
            add("destination.folder", _("la ruta está vacía"))

    sched = data.get("schedule") if isinstance(data.get("schedule"), dict) else None
    if sched is not None:
        freq = sched.get("frequency", "daily")
        if freq not in FREQUENCIES:
            add("schedule.frequency", _('{value} no es válido (usa "daily" o "weekly")').format(value=_show(freq)))
        weekdays = sched.get("weekdays", [])
        if not _is_str_list(weekdays):
            add("schedule.weekdays", _("debe ser una lista de días entre comillas"))
        else:
            for i, day in enumerate(weekdays):
                if day not in WEEKDAYS:
                    add(
                        f"schedule.weekdays[{i}]",
                        _("{value} no es un día válido (usa {names})").format(
                            value=_show(day), names=", ".join(WEEKDAYS)
                        ),
                    )
            if freq == "weekly" and not weekdays:
                add("schedule.weekdays", _('con frequency = "weekly" indica al menos un día'))
        t = sched.get("time", "20:00")
        if not isinstance(t, str) or not TIME_RE.match(t):
            add("schedule.time", _("{value} no es una hora válida (HH:MM)").format(value=_show(t)))
        for key in ("catch_up", "start_with_system"):
            if key in sched and not isinstance(sched[key], bool):
                add(f"schedule.{key}", _("debe ser true o false"))
        drills = sched.get("test_restore", "weekly")
        if drills not in TEST_RESTORE:
            add("schedule.test_restore", _('{value} no es válido (usa "weekly", "monthly" u "off")').format(
                value=_show(drills)))

    ret = data.get("retention") if isinstance(data.get("retention"), dict) else None
    if ret is not None:
        for key in RetentionConfig.__dataclass_fields__:
            if key in ret:
                value = ret[key]
                if not _is_int(value) or value < 0:
                    add(f"retention.{key}", _("{value} no es válido: debe ser un número entero, 0 o más").format(
                        value=_show(value)))

    cloud = data.get("cloud") if isinstance(data.get("cloud"), dict) else None
    if cloud is not None:
        provider = cloud.get("provider", "none")
        if provider not in PROVIDERS:
            add("cloud.provider", _('{value} no es válido (usa "none", "dropbox" o "google_drive")').format(
                value=_show(provider)))
        for key in ("folder", "account", "dropbox_app_key"):
            if key in cloud and not isinstance(cloud[key], str):
                add(f"cloud.{key}", _("debe ser un texto entre comillas"))
        folder = cloud.get("folder", "/Respaldos")
        if isinstance(folder, str) and not folder.strip("/ "):
            add("cloud.folder", _("indica el nombre de una carpeta, por ejemplo \"/Respaldos\""))

    machine = data.get("machine") if isinstance(data.get("machine"), dict) else None
    if machine is not None and "name" in machine:
        name = machine["name"]
        if not isinstance(name, str):
            add("machine.name", _("debe ser un texto entre comillas"))
        elif len(name.strip()) > MACHINE_NAME_MAX or any(ord(c) < 32 for c in name):
            add("machine.name", _("{value} no sirve como nombre del equipo: usa hasta {count} letras, números y "
                                  "espacios").format(value=_show(name), count=MACHINE_NAME_MAX))

    notify = data.get("notify") if isinstance(data.get("notify"), dict) else None
    if notify is not None:
        _validate_notify(notify, add)

    secrets = data.get("secrets") if isinstance(data.get("secrets"), dict) else None
    if secrets is not None and "allow_file" in secrets and not isinstance(secrets["allow_file"], bool):
        add("secrets.allow_file", _("debe ser true o false"))

    encryption = data.get("encryption") if isinstance(data.get("encryption"), dict) else None
    if encryption is not None:
        if "enabled" in encryption and not isinstance(encryption["enabled"], bool):
            add("encryption.enabled", _("debe ser true o false"))
        scope = encryption.get("scope", "cloud")
        if scope not in ENCRYPTION_SCOPES:
            add("encryption.scope", _('{value} no es válido (usa "cloud" o "all")').format(value=_show(scope)))
    return problems


EMAIL_RE = re.compile(r"^[^@\s<>()\[\],;:\"\\]+@[\w-]+(\.[\w-]+)+$")
HOST_RE = re.compile(r"^[\w-]+(\.[\w-]+)*\.?$")
CHAT_ID_RE = re.compile(r"^(-?[0-9]{1,20}|@[A-Za-z][A-Za-z0-9_]{3,31})$")
# Secrets someone may try to write into [notify]: say where they go instead of "clave desconocida".
NOTIFY_SECRET_KEYS = {"password": "smtp", "smtp_password": "smtp", "telegram_token": "telegram",
                      "bot_token": "telegram", "token": "telegram"}


def is_local_host(host: str) -> bool:
    """A name or address that means this computer (where plain SMTP without TLS is acceptable)."""
    import ipaddress

    host = host.strip().strip("[]").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _valid_host(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return bool(HOST_RE.match(host))


def _validate_notify(notify: dict[str, Any], add) -> None:
    """``[notify]``: events, addresses, the mail server and the ping address, each problem with its key."""
    for key, channel in NOTIFY_SECRET_KEYS.items():
        if key in notify:
            add(f"notify.{key}", _("la contraseña o el token no van en la configuración: guárdalo con "
                                   "\"respaldos notify password {channel}\" o desde la ventana").format(
                channel=channel))
    events = notify.get("on", [])
    if not _is_str_list(events):
        add("notify.on", _("debe ser una lista de avisos entre comillas (usa {names})").format(
            names=", ".join(NOTIFY_EVENTS)))
    else:
        for i, event in enumerate(events):
            if event not in NOTIFY_EVENTS:
                add(f"notify.on[{i}]", _("{value} no es un aviso válido (usa {names})").format(
                    value=_show(event), names=", ".join(NOTIFY_EVENTS)))
    for key in ("smtp_host", "smtp_security", "smtp_user", "smtp_from", "telegram_chat_id", "ping_url"):
        if key in notify and not isinstance(notify[key], str):
            add(f"notify.{key}", _("debe ser un texto entre comillas"))
    recipients = notify.get("email_to", [])
    if not _is_str_list(recipients):
        add("notify.email_to", _('debe ser una lista de direcciones entre comillas, por ejemplo ["dueno@ejemplo.mx"]'))
        recipients = []
    for i, address in enumerate(recipients):
        if not EMAIL_RE.match(address.strip()):
            add(f"notify.email_to[{i}]", _("{value} no es una dirección de correo válida").format(value=_show(address)))
    port = notify.get("smtp_port", 587)
    if not _is_int(port) or not 1 <= port <= 65535:
        add("notify.smtp_port", _("{value} no es un puerto válido (un número de 1 a 65535)").format(value=_show(port)))
    security = notify.get("smtp_security", "starttls")
    host = notify.get("smtp_host", "")
    host = host.strip() if isinstance(host, str) else ""
    if isinstance(security, str) and security not in SMTP_SECURITY:
        add("notify.smtp_security", _('{value} no es válido (usa "starttls", "ssl" o "none")').format(
            value=_show(security)))
    elif security == "none" and host and not is_local_host(host):
        add("notify.smtp_security", _('"none" envía la contraseña y los avisos sin cifrar: solo sirve para un '
                                      'servidor en esta computadora; con {host} usa "starttls" o "ssl"').format(
            host=host))
    if host and not _valid_host(host):
        add("notify.smtp_host", _('{value} no es un servidor válido: el puerto va aparte, en smtp_port').format(
            value=_show(host)) if host.count(":") == 1 else
            _('{value} no es un servidor válido (por ejemplo "smtp.gmail.com")').format(value=_show(host)))
    if recipients and not host:
        add("notify.smtp_host", _('indica el servidor de correo (por ejemplo "smtp.gmail.com") para enviar a '
                                  'email_to'))
    sender = notify.get("smtp_from", "")
    user = notify.get("smtp_user", "")
    if isinstance(sender, str) and sender.strip():
        if not EMAIL_RE.match(sender.strip()):
            add("notify.smtp_from", _("{value} no es una dirección de correo válida").format(value=_show(sender)))
    elif recipients and isinstance(user, str) and not EMAIL_RE.match(user.strip()):
        add("notify.smtp_from", _("indica la dirección del remitente (smtp_from) o usa una dirección de correo en "
                                  "smtp_user"))
    chat = notify.get("telegram_chat_id", "")
    if isinstance(chat, str) and chat.strip() and not CHAT_ID_RE.match(chat.strip()):
        add("notify.telegram_chat_id", _("{value} no es un chat de Telegram válido (un número, como 123456789 o "
                                         "-1001234567890, o un canal como @mi_canal)").format(value=_show(chat)))
    url = notify.get("ping_url", "")
    if isinstance(url, str) and url.strip() and not _valid_ping_url(url.strip()):
        add("notify.ping_url", _('{value} no es una dirección válida (por ejemplo '
                                 '"https://hc-ping.com/<código>")').format(value=_show(url)))


def _valid_ping_url(url: str) -> bool:
    from urllib.parse import urlsplit

    if any(c.isspace() for c in url):
        return False
    try:
        parts = urlsplit(url)
        _port = parts.port  # raises ValueError for a bad port
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not parts.fragment


def _validate_databases(databases: Any, add) -> None:
    """``[[source.databases]]``: every problem with its key path (``source.databases[0].engine``)."""
    if not isinstance(databases, list):
        add("source.databases", _("debe ser una lista de tablas [[source.databases]]"))
        return
    known = set(DatabaseSource.__dataclass_fields__)
    seen: dict[str, int] = {}
    for i, entry in enumerate(databases):
        key = f"source.databases[{i}]"
        if not isinstance(entry, dict):
            add(key, _("debe ser una tabla [[source.databases]]"))
            continue
        for name in entry:
            if name == "password":
                add(f"{key}.password", _("la contraseña no va en la configuración: guárdala con "
                                         "\"respaldos db password NOMBRE\" o desde la ventana"))
            elif name not in known:
                add(f"{key}.{name}", _("clave desconocida"))
        for name in ("name", "host", "database", "path", "user", "client"):
            if name in entry and not isinstance(entry[name], str):
                add(f"{key}.{name}", _("debe ser un texto entre comillas"))
        engine = entry.get("engine")
        if engine is None:
            add(f"{key}.engine", _('falta el tipo de base de datos (usa "mysql" o "firebird")'))
            continue
        if engine not in ENGINES:
            add(f"{key}.engine", _('{value} no es válido (usa "mysql" o "firebird")').format(value=_show(engine)))
            continue
        port = entry.get("port", 0)
        if not _is_int(port) or not 0 <= port <= 65535:
            add(f"{key}.port", _("{value} no es un puerto válido (un número de 1 a 65535)").format(value=_show(port)))
        host = entry.get("host", "localhost")
        if isinstance(host, str) and not host.strip():
            add(f"{key}.host", _('indica el equipo del servidor, por ejemplo "localhost"'))
        wanted, other = ("database", "path") if engine == "mysql" else ("path", "database")
        value = entry.get(wanted, "")
        if isinstance(value, str) and not value.strip():
            add(f"{key}.{wanted}", _("falta el nombre de la base de datos") if engine == "mysql"
                else _("falta la ruta del archivo de la base de datos en el servidor (o su alias)"))
        if isinstance(entry.get(other), str) and entry[other].strip():
            add(f"{key}.{other}", _('con engine = "mysql" indica la base de datos en database, no en path')
                if engine == "mysql" else
                _('con engine = "firebird" indica la ruta del archivo en path, no en database'))
        if engine == "mysql" and isinstance(value, str) and value.startswith("-"):
            add(f"{key}.database", _("{value} no es un nombre de base de datos válido").format(value=_show(value)))
        fields = [entry.get(k, "") for k in ("name", "database", "path")]
        if not all(isinstance(f, str) for f in fields):
            continue
        label = database_label(engine, *fields)
        if label and not DB_NAME_RE.match(label):
            add(f"{key}.name", _("{value} no sirve como nombre: quita / \\ : * ? \" < > |").format(value=_show(label)))
        elif label:
            first = seen.setdefault(label.casefold(), i)
            if first != i:
                add(f"{key}.name", _("{value} ya es el nombre de source.databases[{first}]; pon otro en name").format(
                    value=_show(label), first=first))


def to_dict(config: Config) -> dict[str, Any]:
    """The config as TOML-ready tables, leaving out empty optional values."""
    data = asdict(config)
    if not data["source"]["exclude"]:
        del data["source"]["exclude"]
    if data["source"]["databases"]:
        for entry in data["source"]["databases"]:
            for key in ("name", "port", "database", "path", "user", "client"):
                if not entry[key]:
                    del entry[key]
    else:
        del data["source"]["databases"]
    if data["schedule"]["frequency"] == "daily" and not data["schedule"]["weekdays"]:
        del data["schedule"]["weekdays"]
    for key in ("account", "dropbox_app_key"):
        if not data["cloud"][key]:
            del data["cloud"][key]
    if not data["machine"]["name"].strip():
        del data["machine"]
    defaults = asdict(NotifyConfig())
    notify = {k: v for k, v in data["notify"].items() if k == "on" or v != defaults[k]}
    if notify == {"on": defaults["on"]}:
        del data["notify"]
    else:
        data["notify"] = notify
    if not data["secrets"]["allow_file"]:
        del data["secrets"]
    if data["encryption"] == asdict(EncryptionConfig()):
        del data["encryption"]
    return data


def from_dict(data: dict[str, Any]) -> Config:
    """Build a Config from a dict that ``validate_dict`` found valid; omitted keys take defaults."""
    sections = {}
    for name, cls in SECTIONS.items():
        values = dict(data.get(name, {}))
        if name == "source":
            values["databases"] = [DatabaseSource(**entry) for entry in values.get("databases", [])]
        sections[name] = cls(**values)
    config = Config(**sections)
    # Keep the weekday order stable and without repeats, whatever order the file lists them in.
    config.schedule.weekdays = [d for d in WEEKDAYS if d in config.schedule.weekdays]
    return config


def validate(config: Config) -> list[Problem]:
    """The same validator the file goes through, for a Config built by the window."""
    return validate_dict(asdict(config))


def format_problems(path: Path | str, problems: list[Problem]) -> str:
    lines = [_("La configuración {path} tiene problemas:").format(path=path)]
    lines += [f"  {p}" for p in problems]
    lines.append(_("Corrígela o vuelve a configurar los respaldos desde la ventana de Respaldos."))
    return "\n".join(lines)


def load(path: Path | str) -> Config:
    """Read and validate a config file; every problem is reported at once as a ConfigError."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            _("No hay configuración en {path}. Abre Respaldos para configurar los respaldos "
              "o indica otro archivo con --config.").format(path=path)
        ) from None
    except OSError as exc:
        raise ConfigError(_("No se pudo leer la configuración {path}: {error}").format(
            path=path, error=exc.strerror or exc)) from None
    try:
        data = tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ConfigError(_("La configuración {path} no es un texto UTF-8. Guárdala como UTF-8.").format(
            path=path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            _("La configuración {path} no es un TOML válido: {error}. Corrígela o vuelve a configurar "
              "los respaldos desde la ventana de Respaldos.").format(path=path, error=exc)
        ) from None
    problems = validate_dict(data)
    if problems:
        raise ConfigError(format_problems(path, problems))
    return from_dict(data)


def save(config: Config, path: Path | str) -> None:
    """Validate, then write atomically. A previous file that does not parse is set aside, not lost."""
    path = Path(path)
    problems = validate(config)
    if problems:
        raise ConfigError(format_problems(path, problems))
    text = tomli_w.dumps(to_dict(config)).encode("utf-8")
    # Round-trip before replacing anything: what we write must load back to the same config.
    if from_dict(tomllib.loads(text.decode("utf-8"))) != from_dict(to_dict(config)):
        raise AssertionError("config does not round-trip through TOML")
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        try:
            tomllib.loads(path.read_text(encoding="utf-8-sig"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            aside = path.with_name(f"{path.name}.invalido-{time.strftime('%Y%m%d-%H%M%S')}")
            shutil.copy2(path, aside)
            logger.warning("config %s did not parse; kept a copy as %s", path, aside)
    atomic_write_bytes(path, text)
    logger.info("config saved to %s", path)
