"""A backup's date and time in words, as the restore's sentences say it: "del martes 25 a las 20:00"."""

from __future__ import annotations

from datetime import datetime

from wizard.i18n import _


def _weekday(index: int) -> str:
    return (_("lunes"), _("martes"), _("miércoles"), _("jueves"), _("viernes"), _("sábado"),
            _("domingo"))[index]


def _month(index: int) -> str:
    return (_("enero"), _("febrero"), _("marzo"), _("abril"), _("mayo"), _("junio"), _("julio"),
            _("agosto"), _("septiembre"), _("octubre"), _("noviembre"), _("diciembre"))[index - 1]


def when_phrase(created: datetime, now: datetime | None = None) -> str:
    """A backup's moment after "del respaldo" / "después": "del martes 25 a las 20:00", "de hoy a las 9:05"."""
    now = now or datetime.now()
    clock = created.strftime("%H:%M")
    days = (now.date() - created.date()).days
    if days == 0:
        return _("de hoy a las {time}").format(time=clock)
    if 0 < days < 28 and (created.year, created.month) == (now.year, now.month):
        return _("del {weekday} {day} a las {time}").format(
            weekday=_weekday(created.weekday()), day=created.day, time=clock)
    if 0 < days < 300:
        return _("del {weekday} {day} de {month} a las {time}").format(
            weekday=_weekday(created.weekday()), day=created.day, month=_month(created.month), time=clock)
    return _("del {day} de {month} de {year} a las {time}").format(
        day=created.day, month=_month(created.month), year=created.year, time=clock)


def changes_lost_sentence(created: datetime, now: datetime | None = None) -> str:
    """ "Se perderán los cambios hechos después del martes 25 a las 20:00." """
    now = now or datetime.now()
    if created.date() == now.date():
        return _("Se perderán los cambios hechos hoy después de las {time}.").format(
            time=created.strftime("%H:%M"))
    return _("Se perderán los cambios hechos después {when}.").format(when=when_phrase(created, now))
