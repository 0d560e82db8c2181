"""Notices to the owner: e-mail, Telegram and a dead-man's switch (Healthchecks-style pings).

``CHANNELS`` is the plain table of message channels; each module has the same few functions (``title``,
``configured``, ``target``, ``failed_sentence``, ``send``). ``ping`` is the dead-man's switch.
``messages`` decides what is sent (pure), ``outbox`` keeps what waits and what the summary shows.

Sending never delays or fails a backup: the hooks only queue work for one background thread (in order, so
a ``/start`` ping always goes before its run's result), each try has a 10 s timeout, and every failure is a
logged warning and a line in the summary. The command line waits up to ``CLI_WAIT`` seconds before exiting.
Design and the setup guides: docs/notify.md.

The API the window uses:
- ``tick(config, config_path=...)`` when it opens and every ``TICK_PERIOD``: overdue and weekly messages,
  retries of waiting ones (returns at once; the work runs on the notices thread);
- ``send_test(config)`` -> one ``ChannelResult`` per configured channel (blocks up to ~10 s: call it from a
  worker thread);
- ``status(config)`` -> ``NotifyStatus``: the channels that are on, the last message sent, the problems
  ("No se pudo avisar por correo: ...") and how many messages wait (reads one small file; no network);
- ``set_password("smtp" | "telegram", value)`` / ``has_password(...)``: the keyring.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from wizard.core import history, machine, secrets, state
from wizard.core.config import Config, NotifyConfig
from wizard.core.errors import UserError
from wizard.core.names import parse_archive_name
from wizard.core.notify import email, messages, outbox, ping, telegram
from wizard.core.notify.base import ChannelError
from wizard.core.notify.messages import Alert
from wizard.core.ownership import own_archives
from wizard.core.schedule import LOCAL, local_now, overdue
from wizard.i18n import _

logger = logging.getLogger(__name__)

CHANNELS = {"email": email, "telegram": telegram}  # message channels, in the order they are tried
PASSWORDS = {"smtp": email, "telegram": telegram}  # ``respaldos notify password KIND``
TICK_PERIOD = timedelta(hours=1)
CLI_WAIT = 30.0  # seconds ``respaldos backup`` / ``sync`` wait for their messages before exiting
CLOUD_USAGE_WAIT = 15.0  # the weekly report's question to the cloud
TOKEN_RE = re.compile(r"^[0-9]{3,20}:[A-Za-z0-9_-]{20,}$")


@dataclass(frozen=True)
class ChannelResult:
    """How a test went through one channel: ``message`` is "enviado" or the plain reason."""

    channel: str  # email | telegram | ping
    title: str  # correo, Telegram, vigilancia (ping)
    target: str  # dueno@ejemplo.mx, chat 123, https://hc-ping.com/…
    ok: bool
    message: str


@dataclass(frozen=True)
class ChannelInfo:
    channel: str
    title: str
    target: str


@dataclass(frozen=True)
class SentMessage:
    channel: str
    title: str
    at: datetime
    event: str
    subject: str
    text: str


@dataclass
class NotifyStatus:
    channels: list[ChannelInfo]  # those configured, ping last
    events: list[str]  # config.notify.on
    last_sent: SentMessage | None  # the newest message that went out through any channel
    problems: list[str] = field(default_factory=list)  # "No se pudo avisar por correo: ..." per channel
    waiting: int = 0  # messages kept for a retry


# -- the notices thread -----------------------------------------------------------------------------------

class _Worker:
    """One daemon thread that runs jobs in order; ``wait`` lets a command-line run wait for them."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[tuple[Callable[..., None], tuple[Any, ...]]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._idle = threading.Condition()
        self._unfinished = 0

    def submit(self, job: Callable[..., None], *args: Any) -> None:
        with self._idle:
            self._unfinished += 1
        self._jobs.put((job, args))
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="respaldos-avisos", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            job, args = self._jobs.get()
            try:
                job(*args)
            except Exception as exc:  # noqa: BLE001 - a notice never takes the thread down
                logger.warning("notice job %s failed: %s", getattr(job, "__name__", job), type(exc).__name__)
            finally:
                with self._idle:
                    self._unfinished -= 1
                    self._idle.notify_all()

    def wait(self, timeout: float | None) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._unfinished == 0, timeout)


_worker = _Worker()


def wait(timeout: float | None = CLI_WAIT) -> bool:
    """Wait until every queued notice was tried; False when ``timeout`` ran out first (what was not sent
    stays in the outbox for the next tick)."""
    return _worker.wait(timeout)


def _now() -> datetime:
    return local_now()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=LOCAL)


def _name(config: Config) -> str:
    return machine.current(config.machine.name).name


def _channels(cfg: NotifyConfig) -> list[str]:
    return [name for name, module in CHANNELS.items() if module.configured(cfg)]


# -- hooks ------------------------------------------------------------------------------------------------

def backup_started(config: Config, trigger: str = "manual") -> None:
    """A backup started: ``<ping_url>/start``. Returns at once; never raises."""
    try:
        if ping.configured(config.notify) and trigger not in messages.SILENT_TRIGGERS:
            _worker.submit(_ping, config.notify, "start", "")
    except Exception:
        logger.warning("could not queue the start ping", exc_info=True)


def notify_backup_result(config: Config, result: Any) -> None:
    """A backup ended (after its history entry and its upload): its ping and messages. Returns at once;
    never raises."""
    try:
        signal = messages.ping_signal(result)
        if signal is not None and ping.configured(config.notify):
            _worker.submit(_ping, config.notify, signal, result.message)
        if not _channels(config.notify):
            return
        alerts = messages.backup_alerts(result, _name(config), config.notify.on)
        _queue_alerts(config, alerts)
    except Exception as exc:  # noqa: BLE001
        logger.warning("could not queue the notices of a backup: %s", type(exc).__name__)


def notify_failure(config: Config, kind: str, detail: str, at: datetime | None = None) -> None:
    """Something else ended failed (``kind``: upload | restore_test), with the window's sentence ``detail``.
    Returns at once; never raises."""
    try:
        if "failure" in config.notify.on and _channels(config.notify):
            _queue_alerts(config, [messages.failure_alert(_name(config), kind, detail, at)])
    except Exception as exc:  # noqa: BLE001
        logger.warning("could not queue a failure notice: %s", type(exc).__name__)


def notify_sync_result(config: Config, *, failed: bool, detail: str) -> None:
    """``respaldos sync`` ended: an upload failure is sent, but the same one at most once a day (a sync run
    every hour by a task scheduler while offline would repeat it)."""
    now = _now()
    try:
        if "failure" not in config.notify.on or not _channels(config.notify):
            return
        if not failed:
            outbox.set_marker("sync_failure", None)
            return
        previous = outbox.read().get("sync_failure") or {}
        last = outbox.parse_time(previous.get("at"))
        if previous.get("detail") == detail and last is not None and now - last < messages.OVERDUE_REPEAT:
            return
        outbox.set_marker("sync_failure", {"detail": detail, "at": now.isoformat(timespec="seconds")})
        _queue_alerts(config, [messages.failure_alert(_name(config), "upload", detail, now)])
    except Exception as exc:  # noqa: BLE001
        logger.warning("could not queue the notice of a sync: %s", type(exc).__name__)


def _queue_alerts(config: Config, alerts: list[Alert]) -> None:
    """Write each alert to the outbox for each channel (so that nothing is lost if the process ends), then
    let the notices thread send them."""
    now = _now()
    for alert in alerts:
        for channel in _channels(config.notify):
            item = outbox.add(channel, alert, now)
            _worker.submit(_deliver, config.notify, item)


def tick(config: Config, now: datetime | None = None, *, config_path: Path | str | None = None) -> None:
    """The hourly check (also when the app or ``respaldos run`` starts): waiting messages are retried, and
    the overdue and weekly messages sent when due. Returns at once; never raises."""
    try:
        _worker.submit(_tick, config, _aware(now) if now is not None else _now(), config_path)
    except Exception:
        logger.warning("could not queue the notices check", exc_info=True)


# -- work on the notices thread ---------------------------------------------------------------------------

def _ping(cfg: NotifyConfig, signal: str, message: str) -> None:
    now = _now()
    try:
        ping.ping(cfg, signal, message)
    except ChannelError as exc:
        logger.warning("ping %s to %s failed: %s", signal, ping.safe_label(cfg.ping_url), exc.reason)
        outbox.record(ping.NAME, now, error=exc.reason)
        return
    logger.info("ping %s sent to %s", signal, ping.safe_label(cfg.ping_url))
    outbox.record(ping.NAME, now)


def _deliver(cfg: NotifyConfig, item: outbox.Waiting, now: datetime | None = None) -> None:
    module = CHANNELS.get(item.channel)
    now = now or _now()
    if module is None or not module.configured(cfg):
        outbox.drop({item.id})
        logger.info("notice for %s dropped: that channel is no longer configured", item.channel)
        return
    try:
        module.send(cfg, item.alert)
    except ChannelError as exc:
        logger.warning("%s notice (%s) not sent: %s; kept for a retry", item.channel, item.event, exc.reason)
        outbox.failed(item, exc.reason, now)
        return
    logger.info("%s notice (%s) sent", item.channel, item.event)
    outbox.delivered(item, now)


def _tick(config: Config, now: datetime, config_path: Path | str | None) -> None:
    due, expired = outbox.take_due(now)
    for item in expired:
        logger.warning("%s notice (%s) dropped after a day of tries: %s", item.channel, item.event,
                       item.last_error or "?")
    for item in due:
        _deliver(config.notify, item, now)
    if not _channels(config.notify):
        return
    for check in (_check_overdue, _check_weekly):
        try:
            check(config, now, config_path)
        except Exception as exc:  # noqa: BLE001 - one check failing must not stop the other
            logger.warning("notices check %s failed: %s", check.__name__, type(exc).__name__)


def _check_overdue(config: Config, now: datetime, config_path: Path | str | None) -> None:
    """The summary's watchdog (``schedule.overdue``), sent at most once a day while it lasts."""
    last = history.last_success(history.read())
    since = state.config_saved_at(config_path) if config_path else None
    elapsed = overdue(config.schedule, last.end if last else None, now, since=since)
    previous = outbox.read().get("overdue_sent_at")
    if elapsed is None:
        if previous is not None:
            outbox.set_marker("overdue_sent_at", None)
        return
    if "overdue" not in config.notify.on:
        return
    if not messages.overdue_due(elapsed, outbox.parse_time(previous), now):
        return
    if not outbox.claim_marker("overdue_sent_at", now.isoformat(timespec="seconds"), only_if=previous):
        return  # another process (the window, ``respaldos run``) is sending it
    _send_now(config, messages.overdue_alert(_name(config), elapsed, _aware(last.end) if last else None), now)


def _check_weekly(config: Config, now: datetime, config_path: Path | str | None) -> None:
    if "weekly" not in config.notify.on:
        return
    previous = outbox.read().get("weekly_sent")
    week = messages.weekly_due(now, previous)
    if week is None or not outbox.claim_marker("weekly_sent", week, only_if=previous):
        return
    _send_now(config, messages.weekly_alert(_name(config), weekly_facts(config, now)), now)


def _send_now(config: Config, alert: Alert, now: datetime) -> None:
    """Send from the notices thread itself (already on it): queued first, like every message."""
    for channel in _channels(config.notify):
        _deliver(config.notify, outbox.add(channel, alert, now), now)


def weekly_facts(config: Config, now: datetime) -> messages.WeeklyFacts:
    """The numbers of the Monday report: the past week's runs from the history, the newest backup, the space
    this installation's backups use in the destination and in the cloud, pending uploads, the last restore
    drill."""
    start, end = messages.report_period(now)
    made = failed = 0
    for entry in history.read():
        if (entry.trigger in messages.SILENT_TRIGGERS or entry.is_drill
                or not start <= _aware(entry.end) < end):
            continue
        if entry.succeeded:
            made += 1
        elif entry.status == "failed":
            failed += 1
    newest = history.last_success([e for e in history.read() if e.trigger not in messages.SILENT_TRIGGERS])
    local = _local_usage(config)
    title, cloud_bytes, pending = "", None, 0
    if config.cloud.provider != "none":
        title, cloud_bytes, pending = _cloud_usage(config)
    from wizard.core.drill.records import last_drill, result_of  # the report's last line, once a week

    drill = last_drill(history.read())
    return messages.WeeklyFacts(
        first_day=start.date(), last_day=(end - timedelta(days=1)).date(), made=made, failed=failed,
        newest=_aware(newest.end) if newest else None, newest_size=newest.size if newest else 0,
        local_bytes=local, cloud_title=title, cloud_bytes=cloud_bytes, pending=pending,
        drill=result_of(drill) if drill is not None else None,
        drills_on=config.schedule.test_restore != "off")


def _local_usage(config: Config) -> int | None:
    folder = Path(config.destination.folder).expanduser()
    if not folder.is_dir():
        return None
    try:
        return sum(a.size for a in own_archives(folder, machine.current(config.machine.name)))
    except OSError:
        return None


def _cloud_usage(config: Config) -> tuple[str, int | None, int]:
    """(provider title, bytes of this installation's backups there or None, pending uploads). The question
    to the cloud runs on its own thread and is given CLOUD_USAGE_WAIT seconds."""
    # Only the weekly report with a cloud needs the providers (and their SDKs): loaded here, not at start.
    from wizard.core.cloud import get_provider
    from wizard.core.cloud.queue import is_own_remote, pending

    provider = get_provider(config.cloud)
    title = provider.title
    try:
        count = len(pending(config))
    except Exception:  # noqa: BLE001
        count = 0
    found: dict[str, int] = {}

    def ask() -> None:
        try:
            if not provider.signed_in():
                return
            me = machine.current(config.machine.name)
            found["bytes"] = sum(f.size for f in provider.list()
                                 if parse_archive_name(f.name) is not None and is_own_remote(f.name, me))
        except Exception as exc:  # noqa: BLE001
            logger.info("weekly report: cloud usage unknown (%s)", type(exc).__name__)
        finally:
            provider.close()

    thread = threading.Thread(target=ask, name="respaldos-avisos-nube", daemon=True)
    thread.start()
    thread.join(CLOUD_USAGE_WAIT)
    return title, found.get("bytes"), count


# -- test, status, passwords ------------------------------------------------------------------------------

def send_test(config: Config) -> list[ChannelResult]:
    """A test message through every configured channel (and a ``/log`` ping), all at once; one result each,
    in the order email, telegram, ping. Blocks up to about 10 s."""
    cfg = config.notify
    alert = messages.trial_alert(_name(config))
    jobs: list[tuple[str, Any, Callable[[], None]]] = [
        (name, module, partial(module.send, cfg, alert)) for name, module in CHANNELS.items()
        if module.configured(cfg)]
    if ping.configured(cfg):
        jobs.append((ping.NAME, ping, partial(ping.ping, cfg, "log", alert.text)))
    if not jobs:
        return []

    def run(job: tuple[str, Any, Callable[[], None]]) -> ChannelResult:
        name, module, send = job
        now = _now()
        try:
            send()
        except ChannelError as exc:
            logger.warning("test notice through %s failed: %s", name, exc.reason)
            outbox.record(name, now, error=exc.reason)
            return ChannelResult(name, module.title(), module.target(cfg), False, exc.reason)
        except Exception as exc:  # noqa: BLE001
            reason = _("error inesperado ({error})").format(error=type(exc).__name__)
            logger.warning("test notice through %s failed unexpectedly: %s", name, type(exc).__name__)
            return ChannelResult(name, module.title(), module.target(cfg), False, reason)
        logger.info("test notice sent through %s", name)
        outbox.record(name, now, alert=alert if name != ping.NAME else None)
        return ChannelResult(name, module.title(), module.target(cfg), True, _("enviado"))

    with ThreadPoolExecutor(max_workers=len(jobs), thread_name_prefix="respaldos-prueba") as pool:
        return list(pool.map(run, jobs))


_MODULES = {**CHANNELS, ping.NAME: ping}


def status(config: Config) -> NotifyStatus:
    """What the summary shows; reads the notices file only."""
    cfg = config.notify
    channels = [ChannelInfo(name, module.title(), module.target(cfg)) for name, module in _MODULES.items()
                if module.configured(cfg)]
    data = outbox.read()
    last = None
    for name, sent in data["sent"].items():
        at = outbox.parse_time(sent.get("at")) if isinstance(sent, dict) else None
        if at is None or name not in _MODULES or (last is not None and at <= last.at):
            continue
        last = SentMessage(name, _MODULES[name].title(), at, str(sent.get("event", "")),
                           str(sent.get("subject", "")), str(sent.get("text", "")))
    configured = {c.channel for c in channels}
    problems = [_MODULES[name].failed_sentence(str(error.get("reason", "")))
                for name, error in data["errors"].items()
                if name in configured and isinstance(error, dict)]
    waiting = sum(1 for w in data["waiting"] if isinstance(w, dict) and w.get("channel") in configured)
    return NotifyStatus(channels, list(cfg.on), last, problems, waiting)


def problems_since(config: Config, since: datetime) -> list[str]:
    """The channels' problems recorded at or after ``since`` (what a command-line run prints)."""
    data = outbox.read()
    configured = {name for name, module in _MODULES.items() if module.configured(config.notify)}
    found = []
    for name, error in data["errors"].items():
        at = outbox.parse_time(error.get("at")) if isinstance(error, dict) else None
        if name in configured and at is not None and at >= since:
            found.append(_MODULES[name].failed_sentence(str(error.get("reason", ""))))
    return found


def set_password(kind: str, value: str) -> None:
    """Keep the e-mail password (``kind`` "smtp") or the bot token ("telegram") in the keyring. A token that
    does not look like one is refused with a UserError."""
    value = value.strip() if kind == "telegram" else value
    if not value:
        raise UserError(_("No se guardó nada: está vacío."))
    if kind == "telegram" and not TOKEN_RE.match(value):
        raise UserError(_("Eso no parece el token de un bot de Telegram (se ve como 123456789:AAF…, y lo da "
                          "@BotFather). No se guardó."))
    secrets.set_secret(PASSWORDS[kind].SECRET, value)


def has_password(kind: str) -> bool:
    return bool(secrets.get_secret(PASSWORDS[kind].SECRET))
