"""The hourly check: overdue and weekly messages on the fake clock of the scheduler tests, the sync's upload
failures, and the hook in ``respaldos run``."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta

from tests.core.test_schedule import FakeClock, _start_service
from tests.notify.conftest import MACHINE, shop, telegram_block
from wizard.core import config as config_mod
from wizard.core import history, machine, notify
from wizard.core.names import archive_name
from wizard.core.schedule import LOCAL

# 2030-11-25 is a Monday, far from the real clock (backups made by the tests themselves land elsewhere).
MONDAY = date(2030, 11, 25)


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=LOCAL)


def entry(end: datetime, status: str = "ok", trigger: str = "scheduled", size: int = 0) -> history.HistoryEntry:
    wall = end.replace(tzinfo=None)
    return history.HistoryEntry(start=wall - timedelta(minutes=1), end=wall, trigger=trigger, status=status,
                                size=size)


def tick(cfg, now: datetime) -> None:
    notify.tick(cfg, now)
    assert notify.wait(30)


def test_the_overdue_message_goes_out_once_a_day_while_no_backup_succeeds(tmp_path, bot_api, bot_token):
    cfg = config_mod.load(shop(tmp_path, telegram_block()))  # daily at 20:00
    history.append(entry(at(MONDAY - timedelta(days=3), 20, 1)))
    clock = FakeClock(at(MONDAY, 9))

    tick(cfg, clock())
    assert [m["text"] for m in bot_api.sent] == [
        (f"{MACHINE}: hace 2 días que no se hace un respaldo. El último se hizo el 2030-11-22 20:01. Abre Respaldos "
        "en esa computadora para ver qué pasa.")]

    for _hour in range(23):
        clock.advance(hours=1)
        tick(cfg, clock())
    assert len(bot_api.sent) == 1
    clock.advance(hours=1)
    tick(cfg, clock())
    assert len(bot_api.sent) == 2 and "hace 3 días" in bot_api.sent[1]["text"]

    history.append(entry(clock() + timedelta(minutes=5)))  # a backup succeeds: it is over
    clock.advance(hours=1)
    tick(cfg, clock())
    assert len(bot_api.sent) == 2
    clock.advance(days=3)  # and it starts again: the first message of a new stretch goes out at once
    tick(cfg, clock())
    assert len(bot_api.sent) == 3


def test_overdue_off_sends_nothing(tmp_path, bot_api, bot_token):
    cfg = config_mod.load(shop(tmp_path, telegram_block(events='["failure"]')))
    history.append(entry(at(MONDAY - timedelta(days=5), 20, 1)))

    tick(cfg, at(MONDAY, 9))

    assert bot_api.sent == []


def test_the_weekly_report_goes_out_on_monday_morning_with_the_numbers_of_the_week(tmp_path, bot_api, bot_token):
    cfg = config_mod.load(shop(tmp_path, telegram_block(events='["weekly"]')))
    history.append(entry(at(date(2030, 11, 10), 20, 1)))  # the week before
    for day in range(18, 23):  # Monday 18 .. Friday 22: five good ones
        history.append(entry(at(date(2030, 11, day), 20, 1), size=2_000_000))
    history.append(entry(at(date(2030, 11, 23), 20, 1), status="failed"))
    history.append(entry(at(date(2030, 11, 23), 21, 0), trigger="before-restore"))  # not a backup of the week
    drill = entry(at(date(2030, 11, 23), 9, 12), trigger="test-restore")  # a restore drill: not a backup either
    drill.drill = {"archive": "respaldo.zip", "ok": True, "seconds": 2.0, "problem": None, "databases": [
        {"path": "datos/ventas.db", "kind": "sqlite", "integrity": "ok", "tables": {"ventas": 12345},
         "newest": "2030-11-22T19:42:00"}]}
    history.append(drill)
    me = machine.current(MACHINE)
    dest = tmp_path / "usb" / "Respaldos"
    (dest / archive_name(datetime(2030, 11, 22, 20, 0), me.tag)).write_bytes(b"x" * 3_000_000)

    tick(cfg, at(MONDAY, 7, 59))
    assert bot_api.sent == []
    tick(cfg, at(MONDAY, 8, 0))
    tick(cfg, at(MONDAY, 9, 0))

    assert [m["text"] for m in bot_api.sent] == [
        (f"{MACHINE}: resumen de la semana del 18/11 al 24/11.\n"
        "Respaldos hechos: 5. Fallidos: 1.\n"
        "El más reciente: 2030-11-22 20:01 (1.9 MB).\n"
        "Espacio usado: 2.9 MB en la carpeta de respaldos.\n"
        "Última prueba de restauración: 2030-11-23 09:11, correcta: 12,345 ventas, último movimiento del 22 de "
        "noviembre de 2030 a las 19:42.")]


def test_a_failed_sync_is_sent_once_a_day_for_the_same_reason(tmp_path, bot_api, bot_token):
    cfg = config_mod.load(shop(tmp_path, telegram_block()))

    notify.notify_sync_result(cfg, failed=True, detail="Nube: 1 respaldo pendiente de subir (sin conexión)")
    notify.notify_sync_result(cfg, failed=True, detail="Nube: 1 respaldo pendiente de subir (sin conexión)")
    notify.notify_sync_result(cfg, failed=True, detail="Vuelve a iniciar sesión con Google.")
    assert notify.wait(30)
    assert len(bot_api.sent) == 2
    notify.notify_sync_result(cfg, failed=False, detail="")
    notify.notify_sync_result(cfg, failed=True, detail="Vuelve a iniciar sesión con Google.")
    assert notify.wait(30)

    assert len(bot_api.sent) == 3
    assert bot_api.sent[1]["text"].startswith(f"{MACHINE}: el respaldo se guardó, pero no se pudo subir a la nube. "
                                              "Vuelve a iniciar sesión con Google.")


def test_respaldos_run_checks_the_notices_at_start_and_every_hour(tmp_path):
    config_path = shop(tmp_path, "")
    clock = FakeClock(at(MONDAY, 9))
    calls = []
    stop = threading.Event()

    def notify_fn(cfg, now, *, config_path):
        calls.append((now, config_path))

    thread, result = _start_service(config_path, stop, lambda cfg, **kw: None, clock, notify_fn=notify_fn)
    try:
        assert [c[0] for c in calls] == [at(MONDAY, 9)]
        clock.advance(minutes=59)
        assert not _wait(lambda: len(calls) > 1, 0.2)
        clock.advance(minutes=1)
        assert _wait(lambda: len(calls) == 2)
    finally:
        stop.set()
        thread.join(10)
    assert calls[1] == (at(MONDAY, 10), config_path)
    assert result["code"] == 0


def _wait(predicate, timeout: float = 10.0) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return bool(predicate())
