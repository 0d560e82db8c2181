"""Sentences and short formats the window shows: sizes, dates, schedules, retention, statuses.

Kept apart from the widgets so they can be tested without a display. Every word goes through ``_``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from wizard.core.config import WEEKDAYS, DatabaseSource, RetentionConfig, ScheduleConfig, SourceConfig
from wizard.core.logsetup import log_file
from wizard.i18n import _, ngettext

SOURCE_DATABASES_SHOWN = 3  # in the summary's "Qué:" line; more become "y N bases de datos más"


def weekday_name(day: str) -> str:
    """ "friday" -> "viernes"."""
    return {
        "monday": _("lunes"),
        "tuesday": _("martes"),
        "wednesday": _("miércoles"),
        "thursday": _("jueves"),
        "friday": _("viernes"),
        "saturday": _("sábado"),
        "sunday": _("domingo"),
    }[day]


def weekday_plural(day: str) -> str:
    """ "saturday" -> "sábados" (for "Todos los sábados")."""
    return {
        "monday": _("lunes"),
        "tuesday": _("martes"),
        "wednesday": _("miércoles"),
        "thursday": _("jueves"),
        "friday": _("viernes"),
        "saturday": _("sábados"),
        "sunday": _("domingos"),
    }[day]


def weekday_short(day: str) -> str:
    return {
        "monday": _("Lun"),
        "tuesday": _("Mar"),
        "wednesday": _("Mié"),
        "thursday": _("Jue"),
        "friday": _("Vie"),
        "saturday": _("Sáb"),
        "sunday": _("Dom"),
    }[day]


def month_short(month: int) -> str:
    names = [
        _("ene"),
        _("feb"),
        _("mar"),
        _("abr"),
        _("may"),
        _("jun"),
        _("jul"),
        _("ago"),
        _("sep"),
        _("oct"),
        _("nov"),
        _("dic"),
    ]
    return names[month - 1]


def join_words(words: list[str]) -> str:
    """["lunes", "martes", "viernes"] -> "lunes, martes y viernes"."""
    if not words:
        return ""
    if len(words) == 1:
        return words[0]
    return _("{first} y {last}").format(first=", ".join(words[:-1]), last=words[-1])


def format_count(n: int) -> str:
    """3450 -> "3,450" (thousands separated, as in Mexico)."""
    return f"{n:,}"


def format_duration(seconds: float) -> str:
    if seconds < 60:
        return _("{s:.0f} s").format(s=max(seconds, 0))
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return _("{m} min {s} s").format(m=minutes, s=secs)
    hours, minutes = divmod(minutes, 60)
    return _("{h} h {m} min").format(h=hours, m=minutes)


def format_time(when: datetime) -> str:
    return _("{h:02d}:{m:02d}").format(h=when.hour, m=when.minute)


def format_when(when: datetime, now: datetime | None = None) -> str:
    """A past moment, short: "hoy 20:01", "ayer 20:00", "vie 28 mar 20:00", "28 mar 2023 20:00"."""
    now = now or datetime.now()
    if when.tzinfo is not None and now.tzinfo is None:
        when = when.astimezone().replace(tzinfo=None)
    day = when.date()
    today = now.date()
    clock = format_time(when)
    if day == today:
        return _("hoy {time}").format(time=clock)
    if day == today - timedelta(days=1):
        return _("ayer {time}").format(time=clock)
    if abs((today - day).days) < 300:
        return _("{weekday} {day} {month} {time}").format(
            weekday=weekday_short(WEEKDAYS[day.weekday()]).lower(),
            day=day.day,
            month=month_short(day.month),
            time=clock,
        )
    return _("{day} {month} {year} {time}").format(
        day=day.day, month=month_short(day.month), year=day.year, time=clock
    )


def format_next(when: datetime, now: datetime) -> str:
    """A future moment: "hoy a las 20:00", "mañana a las 20:00", "viernes 28 a las 20:00"."""
    clock = format_time(when)
    day: date = when.date()
    if day == now.date():
        return _("hoy a las {time}").format(time=clock)
    if day == now.date() + timedelta(days=1):
        return _("mañana a las {time}").format(time=clock)
    if (day - now.date()).days < 7:
        return _("{weekday} {day} a las {time}").format(
            weekday=weekday_name(WEEKDAYS[day.weekday()]), day=day.day, time=clock
        )
    return _("{weekday} {day} de {month} a las {time}").format(
        weekday=weekday_name(WEEKDAYS[day.weekday()]), day=day.day, month=month_short(day.month), time=clock
    )


def describe_schedule(schedule: ScheduleConfig) -> str:
    """ "Todos los días a las 20:00", "Todos los viernes a las 20:00", "Los lunes y jueves a las 21:30"."""
    days = [d for d in WEEKDAYS if d in schedule.weekdays]
    if schedule.frequency == "daily" or len(days) == 7:
        return _("Todos los días a las {time}").format(time=schedule.time)
    if not days:
        return _("Ningún día elegido")
    if len(days) == 1:
        return _("Todos los {days} a las {time}").format(days=weekday_plural(days[0]), time=schedule.time)
    return _("Los {days} a las {time}").format(
        days=join_words([weekday_plural(d) for d in days]), time=schedule.time
    )


def describe_retention(policy: RetentionConfig) -> str:
    """What the rules keep, in one plain sentence."""
    parts = []
    if policy.keep_last:
        parts.append(
            _("los últimos {n} respaldos").format(n=policy.keep_last)
            if policy.keep_last != 1
            else _("el último respaldo")
        )
    if policy.keep_daily:
        parts.append(
            _("uno por día de los últimos {n} días").format(n=policy.keep_daily)
            if policy.keep_daily != 1
            else _("uno del último día")
        )
    if policy.keep_weekly:
        parts.append(
            _("uno por semana de las últimas {n} semanas").format(n=policy.keep_weekly)
            if policy.keep_weekly != 1
            else _("uno de la última semana")
        )
    if policy.keep_monthly:
        parts.append(
            _("uno por mes de los últimos {n} meses").format(n=policy.keep_monthly)
            if policy.keep_monthly != 1
            else _("uno del último mes")
        )
    if not parts:
        return _("Se conservan todos los respaldos; ninguno se borra solo. Vigila el espacio libre.")
    return _("Se conservan {rules}. Los demás se borran solos, y el más reciente nunca se borra.").format(
        rules=join_words(parts)
    )


def describe_retention_short(policy: RetentionConfig) -> str:
    """ "últimos 10, 7 días, 4 semanas, 12 meses" for the summary."""
    parts = []
    if policy.keep_last:
        parts.append(_("últimos {n}").format(n=policy.keep_last))
    if policy.keep_daily:
        parts.append(_("{n} días").format(n=policy.keep_daily))
    if policy.keep_weekly:
        parts.append(_("{n} semanas").format(n=policy.keep_weekly))
    if policy.keep_monthly:
        parts.append(_("{n} meses").format(n=policy.keep_monthly))
    return ", ".join(parts) if parts else _("todos")


def describe_database(db: DatabaseSource) -> str:
    """ "Base de datos «sicar» (MySQL/MariaDB en localhost:3306, sicar)"; Firebird shows the file on the server."""
    from wizard.core.servers import ENGINE_NAMES, where

    return _("Base de datos «{name}» ({engine} en {where}, {database})").format(
        name=db.label,
        engine=ENGINE_NAMES.get(db.engine, db.engine),
        where=where(db),
        database=db.server_database,
    )


def describe_sources(source: SourceConfig) -> str:
    """What is backed up, for the summary: the first folder ("y N más") and each server database, one a line."""
    lines = []
    paths = source.paths
    if paths:
        line = paths[0]
        if len(paths) > 1:
            line += "  " + ngettext("(y {n} más)", "(y {n} más)", len(paths) - 1).format(n=len(paths) - 1)
        lines.append(line)
    databases = source.databases
    lines += [describe_database(db) for db in databases[:SOURCE_DATABASES_SHOWN]]
    hidden = len(databases) - SOURCE_DATABASES_SHOWN
    if hidden > 0:
        lines.append(ngettext("y {n} base de datos más", "y {n} bases de datos más", hidden).format(n=hidden))
    return "\n".join(lines) if lines else _("Nada elegido todavía")


def status_text(status: str) -> str:
    return {
        "ok": _("Correcto"),
        "warning": _("Con advertencias"),
        "failed": _("Falló"),
        "cancelled": _("Cancelado"),
        "skipped": _("No se hizo"),
    }.get(status, status)


def trigger_text(trigger: str) -> str:
    return {
        "manual": _("Manual"),
        "scheduled": _("Programado"),
        "catch-up": _("Al abrir"),
        "before-restore": _("Antes de restaurar"),
        "self-test": _("Prueba"),
        "test-restore": _("Prueba de restauración"),
    }.get(trigger, trigger)


def phase_text(phase: str) -> str:
    return {
        "scan": _("Revisando los archivos..."),
        "snapshot": _("Copiando la base de datos..."),
        "compress": _("Guardando..."),
        "verify": _("Verificando el respaldo..."),
        "retention": _("Borrando respaldos antiguos..."),
    }.get(phase, "")


def provider_text(provider: str) -> str:
    return {"none": _("Ninguna"), "dropbox": _("Dropbox"), "google_drive": _("Google Drive")}.get(
        provider, provider
    )


def sign_in_button_text(provider: str) -> str:
    """ "Iniciar sesión con Dropbox" / "Iniciar sesión con Google"."""
    known = {"dropbox": _("Iniciar sesión con Dropbox"), "google_drive": _("Iniciar sesión con Google")}
    return known.get(provider) or _("Iniciar sesión con {provider}").format(provider=provider_text(provider))


def cloud_wait_reason(reason: str, provider: str) -> str:
    """Why uploads are waiting, in the words of the summary's cloud line (as the upload queue says it);
    empty for reasons that come with their own sentence (a full account, a revoked sign-in)."""
    title = provider_text(provider)
    return {
        "offline": _("sin conexión"),
        "server": _("{provider} no responde").format(provider=title),
        "verify": _("la copia en {provider} no coincidía; se volverá a intentar").format(provider=title),
        "unavailable": _("la carpeta de los respaldos no está conectada"),
        "busy": _("se están subiendo en este momento"),
        "cancelled": _("subida cancelada"),
    }.get(reason, "")


def estimate_kept(schedule: ScheduleConfig, policy: RetentionConfig, today: date | None = None) -> int | None:
    """How many archives the rules keep once the schedule has run for two years (None: all, no limit)."""
    from wizard.core.retention import select_kept

    if not any((policy.keep_last, policy.keep_daily, policy.keep_weekly, policy.keep_monthly)):
        return None
    today = today or date.today()
    hour, _sep, minute = schedule.time.partition(":")
    try:
        at = (int(hour), int(minute))
    except ValueError:
        at = (20, 0)
    days = set(WEEKDAYS) if schedule.frequency == "daily" else set(schedule.weekdays) or set(WEEKDAYS)
    runs = []
    for back in range(730):
        day = today - timedelta(days=back)
        if WEEKDAYS[day.weekday()] in days:
            when = datetime(day.year, day.month, day.day, *at)
            runs.append((when, when))
    return len(select_kept(runs, policy))


def log_location() -> str:
    """Where the log file is, for a message ("Los detalles están en el registro: ...")."""
    try:
        return str(log_file())
    except Exception:  # noqa: BLE001 - only used in a message
        return _("la carpeta de registros de Respaldos")
