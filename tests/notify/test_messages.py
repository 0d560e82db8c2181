"""Pure decisions and texts: which events of a run are sent, what they say, when overdue and weekly are due."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from wizard.core.notify import messages
from wizard.core.notify.ping import ping_address, safe_label

MEXICO = ZoneInfo("America/Mexico_City")
MONDAY = date(2026, 11, 23)
EVERYTHING = ("failure", "overdue", "success", "weekly")
MISSING = "No se encontró la carpeta E:\\Respaldos. Conecta la memoria USB o elige otra carpeta."


@dataclass
class Cloud:
    status: str
    message: str = ""


@dataclass
class Result:
    status: str
    message: str = ""
    trigger: str = "scheduled"
    ended: datetime = field(default_factory=lambda: datetime(2026, 11, 23, 20, 0, 4))
    cloud: Cloud | None = None


def test_a_failed_backup_gives_one_message_with_the_name_and_the_windows_sentence():
    [alert] = messages.backup_alerts(Result("failed", MISSING), "Caja 1", ["failure"])

    assert alert.event == "failure"
    assert alert.subject == "Caja 1: el respaldo falló"
    assert alert.text == ("Caja 1: no se encontró la carpeta E:\\Respaldos. Conecta la memoria USB o elige otra "
                          "carpeta.\nHora: 2026-11-23 20:00")


def test_a_backup_that_recovers_sends_nothing_unless_success_is_on():
    ok = Result("ok", "Respaldo guardado y verificado: respaldo_x.zip (1.2 MB) en 0.4 s.")

    assert messages.backup_alerts(ok, "Caja 1", ["failure", "overdue", "weekly"]) == []
    [alert] = messages.backup_alerts(ok, "Caja 1", ["success"])
    assert alert.subject == "Caja 1: respaldo hecho"
    assert alert.text == "Caja 1: respaldo guardado y verificado: respaldo_x.zip (1.2 MB) en 0.4 s."


def test_an_upload_left_pending_is_a_failure_even_when_the_backup_succeeded():
    result = Result("ok", "Respaldo guardado.", cloud=Cloud("pending", "Nube: 1 respaldo pendiente de subir (sin conexión)"))

    [alert] = messages.backup_alerts(result, "Caja 1", EVERYTHING)

    assert alert.subject == "Caja 1: el respaldo no se subió a la nube"
    assert alert.text.startswith("Caja 1: el respaldo se guardó, pero no se pudo subir a la nube. Nube: 1 respaldo "
                                 "pendiente de subir (sin conexión).")


@pytest.mark.parametrize("status", ["cancelled", "skipped"])
def test_a_cancelled_or_skipped_run_sends_nothing(status):
    assert messages.backup_alerts(Result(status, "x"), "Caja 1", EVERYTHING) == []
    assert messages.ping_signal(Result(status, "x")) is None


@pytest.mark.parametrize("trigger", ["before-restore", "self-test"])
def test_a_restore_safety_backup_or_the_self_test_sends_nothing(trigger):
    assert messages.backup_alerts(Result("failed", MISSING, trigger=trigger), "Caja 1", EVERYTHING) == []
    assert messages.ping_signal(Result("failed", MISSING, trigger=trigger)) is None


def test_failure_off_sends_no_failure():
    assert messages.backup_alerts(Result("failed", MISSING), "Caja 1", ["overdue"]) == []


@pytest.mark.parametrize(("sentence", "expected"), [
    ("No se encontró la carpeta E:\\R.", "no se encontró la carpeta E:\\R."),
    ("El disco se llenó.", "el disco se llenó."),
    ("Dropbox está lleno.", "Dropbox está lleno."),
    ("POS cerrado.", "POS cerrado."),
    ("E:\\Respaldos no existe.", "E:\\Respaldos no existe."),
])
def test_the_sentence_after_the_name_starts_in_lower_case_unless_it_is_a_name(sentence, expected):
    assert messages.after_colon(sentence) == expected


def test_overdue_is_due_at_most_once_a_day_while_it_lasts():
    now = datetime(2026, 11, 23, 9, 0, tzinfo=MEXICO)
    three_days = timedelta(days=3)

    assert messages.overdue_due(three_days, None, now)
    assert not messages.overdue_due(three_days, now - timedelta(hours=23), now)
    assert messages.overdue_due(three_days, now - timedelta(hours=24), now)
    assert not messages.overdue_due(None, None, now)


def test_the_overdue_message_says_how_long_and_when_the_last_one_was():
    alert = messages.overdue_alert("Caja 1", timedelta(days=3, hours=2), datetime(2026, 11, 20, 20, 1))

    assert alert.subject == "Caja 1: 3 días sin respaldo"
    assert alert.text == ("Caja 1: hace 3 días que no se hace un respaldo. El último se hizo el 2026-11-20 20:01. "
                          "Abre Respaldos en esa computadora para ver qué pasa.")


def test_the_weekly_report_is_due_from_monday_8_once_a_week():
    at = lambda day, hh: datetime.combine(day, datetime.min.time(), tzinfo=MEXICO).replace(hour=hh)

    assert messages.weekly_due(at(MONDAY, 7), None) is None
    week = messages.weekly_due(at(MONDAY, 8), None)
    assert week == "2026-W48"
    assert messages.weekly_due(at(MONDAY, 9), week) is None
    assert messages.weekly_due(at(MONDAY + timedelta(days=3), 12), week) is None
    assert messages.weekly_due(at(MONDAY + timedelta(days=7), 7), week) is None
    assert messages.weekly_due(at(MONDAY + timedelta(days=7), 8), week) == "2026-W49"
    # The computer was off on Monday: the report goes out the first time it is on that week.
    assert messages.weekly_due(at(MONDAY + timedelta(days=2), 10), "2026-W47") == "2026-W48"


def test_the_weekly_report_covers_the_previous_monday_to_sunday():
    start, end = messages.report_period(datetime(2026, 11, 25, 10, 0, tzinfo=MEXICO))

    assert (start.date(), end.date()) == (date(2026, 11, 16), date(2026, 11, 23))


def test_the_weekly_report_is_short():
    facts = messages.WeeklyFacts(date(2026, 11, 16), date(2026, 11, 22), made=6, failed=1,
                                 newest=datetime(2026, 11, 22, 20, 1), newest_size=12_900_000,
                                 local_bytes=80_000_000, cloud_title="Dropbox", cloud_bytes=70_000_000, pending=1)

    alert = messages.weekly_alert("Caja 1", facts)

    assert alert.subject == "Caja 1: resumen semanal de respaldos"
    assert alert.text == ("Caja 1: resumen de la semana del 16/11 al 22/11.\n"
                          "Respaldos hechos: 6. Fallidos: 1.\n"
                          "El más reciente: 2026-11-22 20:01 (12.3 MB).\n"
                          "Espacio usado: 76.3 MB en la carpeta de respaldos, 66.8 MB en Dropbox.\n"
                          "Pendientes de subir: 1.")


def test_healthchecks_pings_add_their_suffix_to_the_path():
    url = "https://hc-ping.com/5b7f0c1e-2a3d"

    assert ping_address(url, "start") == "https://hc-ping.com/5b7f0c1e-2a3d/start"
    assert ping_address(url, "success") == url
    assert ping_address(url + "/", "fail") == "https://hc-ping.com/5b7f0c1e-2a3d/fail"
    assert ping_address(url, "log") == "https://hc-ping.com/5b7f0c1e-2a3d/log"


def test_uptime_kuma_push_addresses_get_up_and_down_instead_of_suffixes():
    url = "https://kuma.ejemplo.mx/api/push/AbC123?status=up&msg=OK&ping="

    assert ping_address(url, "start") is None
    assert ping_address(url, "success") == "https://kuma.ejemplo.mx/api/push/AbC123?ping=&status=up&msg=OK"
    assert ping_address(url, "fail", "Caja 1: sin disco") == (
        "https://kuma.ejemplo.mx/api/push/AbC123?ping=&status=down&msg=Caja+1%3A+sin+disco")


def test_only_the_scheme_and_host_of_a_ping_address_are_ever_shown():
    assert safe_label("https://hc-ping.com/5b7f0c1e-2a3d") == "https://hc-ping.com/…"
    assert safe_label("http://10.0.0.5:8000/ping/abc") == "http://10.0.0.5:8000/…"


def test_network_failures_become_plain_reasons():
    import socket
    import ssl

    from wizard.core.notify.base import network_reason

    host = "smtp.ejemplo.mx"
    assert network_reason(socket.gaierror(-2, "Name or service not known"), host).startswith(
        "no se encontró el servidor smtp.ejemplo.mx")
    assert network_reason(ConnectionRefusedError(111, "refused"), host, 587) == (
        "smtp.ejemplo.mx no acepta conexiones en el puerto 587")
    assert network_reason(TimeoutError("timed out"), host) == "smtp.ejemplo.mx no respondió a tiempo"
    untrusted = ssl.SSLCertVerificationError(1, "certificate verify failed")
    untrusted.verify_message = "self-signed certificate"
    assert network_reason(untrusted, host) == (
        "el certificado de smtp.ejemplo.mx no es de confianza (self-signed certificate)")
    assert network_reason(ValueError("x"), host) is None


def test_a_failed_restore_drill_says_so_in_its_alert_and_the_weekly_report_has_the_last_drill():
    from wizard.core.drill import DatabaseCheck, DrillResult

    problem = "El respaldo r.zip está dañado: datos/ventas.db no coincide con su CRC. Usa otro respaldo."
    alert = messages.failure_alert("Caja 1", "restore_test", problem, datetime(2026, 11, 30, 9, 12))
    assert alert.subject == "Caja 1: la prueba de restauración falló"
    assert alert.text == f"Caja 1: la prueba de restauración falló. {problem}\nHora: 2026-11-30 09:12"
    failed = DrillResult("r.zip", ok=False, seconds=1.0, problem=problem, when=datetime(2026, 11, 30, 9, 12))
    assert messages.drill_line(failed) == f"Última prueba de restauración: 2026-11-30 09:12, falló. {problem}"
    passed = DrillResult("r.zip", ok=True, seconds=1.0, when=datetime(2026, 11, 30, 9, 12),
                         databases=[DatabaseCheck("datos/ventas.db", "sqlite", "ok", {"ventas": 12345})])
    assert messages.drill_line(passed) == "Última prueba de restauración: 2026-11-30 09:12, correcta: 12,345 ventas."
    assert messages.drill_line(None) == "Última prueba de restauración: todavía no se ha probado ningún respaldo."
    facts = messages.WeeklyFacts(date(2026, 11, 23), date(2026, 11, 29), made=7, failed=0, local_bytes=0)
    assert "prueba de restauración" not in messages.weekly_alert("Caja 1", facts).text  # drills off, none yet
    facts = messages.WeeklyFacts(date(2026, 11, 23), date(2026, 11, 29), made=7, failed=0, local_bytes=0,
                                 drill=failed)
    assert messages.weekly_alert("Caja 1", facts).text.endswith("\n" + messages.drill_line(failed))
