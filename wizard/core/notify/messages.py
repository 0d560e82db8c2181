"""Pure decisions and texts: which events of a run are sent, what each message says, when the overdue and
weekly messages are due. Time is always an argument; nothing here reads a clock, a file or the network.

Messages are plain text in the user's language, short enough for a lock screen, and start with the
installation's name: "Caja 1: no se encontró la carpeta E:\\Respaldos. Conecta la memoria USB ...".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from wizard.core.schedule import describe_overdue
from wizard.core.units import format_size
from wizard.i18n import _, ngettext

EVENTS = ("failure", "overdue", "success", "weekly")
# Runs nobody needs to hear about: the safety backup a restore makes (the user is there) and the self-test.
SILENT_TRIGGERS = ("before-restore", "self-test")
FAILURE_KINDS = ("backup", "upload", "restore_test")
OVERDUE_REPEAT = timedelta(days=1)  # at most one overdue message a day while it lasts
WEEKLY_FROM = time(8, 0)  # Monday from 08:00 (or the first tick after it that week)
# Words that keep their capital after "Caja 1: ".
_PROPER = {"Dropbox", "Google", "Respaldos", "SQLite", "MySQL", "MariaDB", "Firebird", "Windows", "Telegram"}


@dataclass(frozen=True)
class Alert:
    """One message: ``event`` is failure | success | overdue | weekly | test."""

    event: str
    subject: str
    text: str


@dataclass(frozen=True)
class WeeklyFacts:
    """What the weekly report says; gathered by the caller (history, the destination, the cloud)."""

    first_day: date
    last_day: date
    made: int
    failed: int
    newest: datetime | None = None
    newest_size: int = 0
    local_bytes: int | None = None  # None: the destination could not be read
    cloud_title: str = ""  # empty: no cloud
    cloud_bytes: int | None = None  # None: the cloud could not be asked
    pending: int = 0
    drill: Any = None  # the last restore drill (wizard.core.drill.DrillResult), None: none yet
    drills_on: bool = False  # [schedule] test_restore is not "off": a line even before the first drill


def after_colon(sentence: str) -> str:
    """A sentence as it reads after "Caja 1: ": its first word in lower case unless it is a name."""
    sentence = sentence.strip()
    word = sentence.split(" ", 1)[0]
    letters = "".join(c for c in word if c.isalpha())
    if len(letters) > 1 and letters[0].isupper() and letters[1:].islower() and letters not in _PROPER:
        return sentence[0].lower() + sentence[1:]
    return sentence


def _full_stop(sentence: str) -> str:
    sentence = sentence.strip()
    return sentence if not sentence or sentence[-1] in ".!?" else sentence + "."


def when(moment: datetime) -> str:
    """2026-11-23 20:00: the same in every language, as ``respaldos list`` shows it."""
    return f"{moment:%Y-%m-%d %H:%M}"


def _size(n: int) -> str:

    return format_size(n)


def failure_alert(name: str, kind: str, detail: str, at: datetime | None = None) -> Alert:
    """A backup, an upload or a restore test that ended failed; ``detail`` is the window's sentence."""
    subject = {
        "backup": _("{name}: el respaldo falló"),
        "upload": _("{name}: el respaldo no se subió a la nube"),
        "restore_test": _("{name}: la prueba de restauración falló"),
    }[kind].format(name=name)
    if kind == "upload":
        text = _("{name}: el respaldo se guardó, pero no se pudo subir a la nube. {detail}").format(
            name=name, detail=_full_stop(detail))
    elif kind == "restore_test":
        text = _("{name}: la prueba de restauración falló. {detail}").format(name=name, detail=_full_stop(detail))
    else:
        text = f"{name}: {_full_stop(after_colon(detail))}"
    if at is not None:
        text += "\n" + _("Hora: {when}").format(when=when(at))
    return Alert("failure", subject, text)


def backup_alerts(result, name: str, events: Iterable[str]) -> list[Alert]:
    """What to send about one finished backup (``BackupResult``): its failure, its upload's failure, or its
    success when "success" is on. A run that recovers sends nothing more."""
    events = set(events)
    if result.trigger in SILENT_TRIGGERS or result.status not in ("ok", "warning", "failed"):
        return []  # skipped (another run was going) or cancelled by the user
    if result.status == "failed":
        return [failure_alert(name, "backup", result.message, result.ended)] if "failure" in events else []
    cloud = result.cloud
    if cloud is not None and getattr(cloud, "status", "") == "pending":
        return [failure_alert(name, "upload", cloud.message, result.ended)] if "failure" in events else []
    if "success" not in events:
        return []
    text = f"{name}: {_full_stop(after_colon(result.message))}"
    if cloud is not None and getattr(cloud, "status", "") == "ok" and getattr(cloud, "message", ""):
        text += " " + _full_stop(cloud.message)
    return [Alert("success", _("{name}: respaldo hecho").format(name=name), text)]


def ping_signal(result) -> str | None:
    """The dead-man's switch's signal for a finished backup: success, fail, or None (cancelled, skipped)."""
    if result.trigger in SILENT_TRIGGERS:
        return None
    if result.status in ("ok", "warning"):
        return "success"
    return "fail" if result.status == "failed" else None


def overdue_due(elapsed: timedelta | None, last_sent: datetime | None, now: datetime) -> bool:
    """Whether to send the overdue message now: overdue, and none sent in the last day."""
    return elapsed is not None and (last_sent is None or now - last_sent >= OVERDUE_REPEAT)


def overdue_alert(name: str, elapsed: timedelta, last_success: datetime | None) -> Alert:
    days = elapsed.days
    subject = ngettext("{name}: {n} día sin respaldo", "{name}: {n} días sin respaldo", days).format(
        name=name, n=days)
    text = f"{name}: {after_colon(describe_overdue(elapsed))}."
    if last_success is not None:
        text += " " + _("El último se hizo el {when}.").format(when=when(last_success))
    else:
        text += " " + _("Todavía no se ha hecho ninguno.")
    text += " " + _("Abre Respaldos en esa computadora para ver qué pasa.")
    return Alert("overdue", subject, text)


def week_id(day: date) -> str:
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


def weekly_due(now: datetime, last_week: str | None) -> str | None:
    """The week whose Monday report is due now (its id), or None: from Monday 08:00, once a week."""
    monday = now.date() - timedelta(days=now.weekday())
    if now.weekday() == 0 and now.time() < WEEKLY_FROM:
        return None
    wid = week_id(monday)
    return None if wid == last_week else wid


def report_period(now: datetime) -> tuple[datetime, datetime]:
    """The week the Monday report covers: last Monday 00:00 up to this Monday 00:00 (in ``now``'s zone)."""
    monday = datetime.combine(now.date() - timedelta(days=now.weekday()), time(0), tzinfo=now.tzinfo)
    return monday - timedelta(days=7), monday


def weekly_alert(name: str, facts: WeeklyFacts) -> Alert:
    lines = [_("{name}: resumen de la semana del {first} al {last}.").format(
        name=name, first=f"{facts.first_day:%d/%m}", last=f"{facts.last_day:%d/%m}")]
    lines.append(_("Respaldos hechos: {made}. Fallidos: {failed}.").format(made=facts.made, failed=facts.failed))
    if facts.newest is not None:
        lines.append(_("El más reciente: {when} ({size}).").format(when=when(facts.newest),
                                                                  size=_size(facts.newest_size)))
    else:
        lines.append(_("Todavía no hay ningún respaldo."))
    local = _size(facts.local_bytes) if facts.local_bytes is not None else _("no se pudo medir")
    if facts.cloud_title:
        cloud = _size(facts.cloud_bytes) if facts.cloud_bytes is not None else _("no se pudo consultar")
        lines.append(_("Espacio usado: {local} en la carpeta de respaldos, {cloud} en {provider}.").format(
            local=local, cloud=cloud, provider=facts.cloud_title))
        lines.append(_("Pendientes de subir: {count}.").format(count=facts.pending))
    else:
        lines.append(_("Espacio usado: {local} en la carpeta de respaldos.").format(local=local))
    if facts.drill is not None or facts.drills_on:
        lines.append(drill_line(facts.drill))
    return Alert("weekly", _("{name}: resumen semanal de respaldos").format(name=name), "\n".join(lines))


def drill_line(drill) -> str:
    """The last restore drill in the weekly report: when, and what it found or why it failed."""
    if drill is None:
        return _("Última prueba de restauración: todavía no se ha probado ningún respaldo.")
    moment = when(drill.when)
    if not drill.ok:
        return _("Última prueba de restauración: {when}, falló. {problem}").format(
            when=moment, problem=_full_stop(drill.sentence()))
    figures = drill.figures()
    if figures:
        return _("Última prueba de restauración: {when}, correcta: {figures}.").format(when=moment, figures=figures)
    return _("Última prueba de restauración: {when}, correcta.").format(when=moment)


def trial_alert(name: str) -> Alert:
    return Alert("test", _("{name}: prueba de avisos").format(name=name),
                 _("{name}: esta es una prueba de los avisos de Respaldos. Si la recibes, los avisos por este medio "
                   "funcionan.").format(name=name))
