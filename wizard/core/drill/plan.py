"""Which restore drills are due now: pure decisions, with the time, the history and a Random as arguments.

``[schedule] test_restore`` ("weekly", "monthly" or "off") sets how often the newest backup of this
installation is tested: when the last finished drill (of any kind: automatic, "Probar ahora",
``respaldos test-restore``) is that old, or there has been none and a backup exists. Once a month, in both
settings, two more are due: one older backup picked at random among those kept, and the newest cloud copy
when a cloud is configured (unless the last upload ran below 1 MB/s: then it is skipped, and said). Nothing
runs at a moment that is not quiet: during a backup, or within the hour before the next scheduled one.
``wizard.core.drill.auto`` gathers the arguments and runs what this returns; docs/drills.md explains it.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from wizard.core.config import ScheduleConfig
from wizard.core.history import HistoryEntry
from wizard.core.schedule import LOCAL, next_run
from wizard.core.units import format_size
from wizard.i18n import _

TRIGGER = "test-restore"  # the history's trigger for a drill (wizard.core.drill.records)
INTERVALS = {"weekly": timedelta(days=7), "monthly": timedelta(days=30)}
MONTH = INTERVALS["monthly"]  # the older backup and the cloud copy: once a month in both settings
QUIET_BEFORE_BACKUP = timedelta(hours=1)  # no drill starts this close to the next scheduled backup
SLOW_UPLOAD = 1_000_000  # bytes per second: below it the cloud copy is not downloaded to be tested
KINDS = ("newest", "older", "cloud")


@dataclass(frozen=True)
class PlannedDrill:
    """One drill to run: ``kind`` is newest | older | cloud; ``archive`` the local archive's name (None for the
    cloud one: the newest cloud copy of this installation, found when it runs); ``why`` says it in words."""

    kind: str
    archive: str | None
    why: str


@dataclass
class Plan:
    """The drills due now, in the order to run them; ``skipped``: sentences about what is left out and why;
    ``wait``: why nothing starts now although something is due (a backup runs or is close), else ""."""

    drills: list[PlannedDrill] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    wait: str = ""
    considered: list[str] = field(default_factory=list)  # the monthly kinds decided now (run or skipped)


def _naive(moment: datetime) -> datetime:
    """Local wall time without a zone, as the history writes it."""
    return moment.astimezone(LOCAL).replace(tzinfo=None) if moment.tzinfo is not None else moment


def last_finished_drill(entries: Iterable[HistoryEntry]) -> HistoryEntry | None:
    """The newest drill in the history that ran to its end (passed or failed); a cancelled one does not count."""
    found = None
    for entry in entries:
        if entry.trigger == TRIGGER and entry.status in ("ok", "failed"):
            found = entry
    return found


def _due(last: datetime | None, now: datetime, every: timedelta) -> bool:
    return last is None or now - _naive(last) >= every


def quiet_moment(now: datetime, schedule: ScheduleConfig, *, backup_running: bool = False) -> str:
    """"" when a drill may start now; else why not, in words."""
    if backup_running:
        return _("Hay un respaldo en curso: la prueba de restauración espera a que termine.")
    upcoming = next_run(schedule, now)
    if _naive(upcoming) - _naive(now) < QUIET_BEFORE_BACKUP:
        return _("El próximo respaldo es a las {time}: la prueba de restauración espera a después.").format(
            time=_naive(upcoming).strftime("%H:%M"))
    return ""


def plan_drills(
    now: datetime,
    entries: Sequence[HistoryEntry],
    schedule: ScheduleConfig,
    archives: Sequence[tuple[str, datetime]],
    *,
    cloud: bool = False,
    upload_speed: float | None = None,
    extras_done: Mapping[str, datetime | None] | None = None,
    backup_running: bool = False,
    rng: random.Random | None = None,
) -> Plan:
    """The drills due at ``now``.

    ``archives``: this installation's backups kept in the destination (name, created), any order;
    ``cloud``: a cloud is configured; ``upload_speed``: the last upload's bytes per second (None: unknown);
    ``extras_done``: when the monthly "older" and "cloud" drills were last decided (None: never);
    ``rng``: picks the older backup (a seeded one in tests).
    """
    plan = Plan()
    setting = schedule.test_restore
    if setting not in INTERVALS or not archives:
        return plan  # off, or nothing to test yet
    now = _naive(now)
    extras_done = extras_done or {}
    kept = sorted(archives, key=lambda a: a[1], reverse=True)
    newest = kept[0][0]
    last = last_finished_drill(entries)
    due: list[PlannedDrill] = []
    if _due(last.end if last is not None else None, now, INTERVALS[setting]):
        why = (_("prueba semanal del respaldo más reciente") if setting == "weekly"
               else _("prueba mensual del respaldo más reciente"))
        due.append(PlannedDrill("newest", newest, why))
    if len(kept) > 1 and _due(extras_done.get("older"), now, MONTH):
        older = sorted(name for name, _created in kept[1:])
        pick = (rng or random.Random()).choice(older)
        due.append(PlannedDrill("older", pick, _("prueba mensual de un respaldo anterior, elegido al azar")))
    if cloud and _due(extras_done.get("cloud"), now, MONTH):
        if upload_speed is not None and upload_speed < SLOW_UPLOAD:
            plan.skipped.append(_(
                "La copia en la nube no se prueba este mes: la última subida fue de {speed}/s, menos de 1 MB/s, "
                "y descargarla ocuparía la conexión demasiado tiempo.").format(speed=format_size(int(upload_speed))))
            plan.considered.append("cloud")
        else:
            due.append(PlannedDrill("cloud", None, _("prueba mensual de la copia más reciente en la nube")))
    if not due:
        return plan
    plan.wait = quiet_moment(now, schedule, backup_running=backup_running)
    if plan.wait:
        return plan
    plan.drills = due
    return plan
