"""``respaldos run``: the schedule kept without a window. A thin loop around schedule.BackupScheduler that
runs each backup on a worker thread, reloads the config when its file changes, uploads what the cloud
queue holds, checks the notices and runs the automatic restore drills while nothing else runs; and the
signal handlers that stop it cleanly (Ctrl+C, SIGTERM, Ctrl+Break)."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from wizard.core import config as config_mod
from wizard.core.config import Config
from wizard.core.errors import UserError
from wizard.core.schedule import (
    CATCH_UP_DELAY,
    TICK_PERIOD,
    BackupScheduler,
    describe,
    format_next_run,
    local_now,
)

logger = logging.getLogger(__name__)

SYNC_PERIOD = timedelta(minutes=15)  # uploads still pending in the cloud queue are retried this often
NOTIFY_PERIOD = timedelta(hours=1)  # notices: retries, overdue and weekly messages (wizard.core.notify.tick)

def install_stop_signals(stop: threading.Event) -> Callable[[], None]:
    """Make Ctrl+C, SIGTERM (and Ctrl+Break on Windows) set ``stop``. Returns a function that puts
    the previous handlers back. Call it from the main thread."""
    previous: dict[int, Any] = {}

    def handler(signum: int, frame: Any) -> None:
        logger.info("signal %s received: stopping", signum)
        stop.set()

    for name in ("SIGINT", "SIGTERM", "SIGBREAK"):
        signum = getattr(signal, name, None)
        if signum is None:
            continue
        try:
            previous[signum] = signal.signal(signum, handler)
        except (ValueError, OSError) as exc:  # not the main thread, or not allowed here
            logger.warning("cannot handle %s: %s", name, exc)

    def restore() -> None:
        for signum, old in previous.items():
            try:
                signal.signal(signum, old)
            except (ValueError, OSError, TypeError):
                pass

    return restore


def run_service(
    config_path: Path | str,
    stop: threading.Event,
    run_backup_fn: Callable[..., Any],
    *,
    tick_period: float = TICK_PERIOD,
    clock: Callable[[], datetime] = local_now,
    catch_up_delay: timedelta = CATCH_UP_DELAY,
    sync_fn: Callable[..., Any] | None = None,
    notify_fn: Callable[..., Any] | None = None,
    drills: Any = None,
) -> int:
    """Keep the schedule without a window until ``stop`` is set; returns the exit code (0).

    Each backup runs in a worker thread as ``run_backup_fn(config, trigger=..., cancel=stop)``, so
    stopping cancels a run in progress (the engine deletes its temporary file) and waits for it to end.
    The config is loaded first (a ConfigError propagates: exit 2) and reloaded when the file changes.
    With a cloud provider configured, ``sync_fn(config, cancel=stop)`` uploads what is pending at start
    and every SYNC_PERIOD, on its own thread, never while a backup runs (a backup uploads its archive
    itself) and never delaying one. ``notify_fn(config, now, config_path=...)`` (the notices' check, which
    returns at once) is called at start and every NOTIFY_PERIOD. ``drills`` (wizard.core.drill.auto.DrillRunner)
    runs the automatic restore drills while nothing else runs; a backup about to start cancels a drill first.
    """
    config_path = Path(config_path)
    current: dict[str, Any] = {"config": config_mod.load(config_path), "mtime": _mtime(config_path)}
    worker: dict[str, threading.Thread | None] = {"thread": None}

    def is_busy() -> bool:
        thread = worker["thread"]
        return thread is not None and thread.is_alive()

    def destination_ready() -> bool:
        return Path(current["config"].destination.folder).is_dir()

    def work(cfg: Config, trigger: str) -> None:
        status = "failed"
        missing = None
        try:
            if drills is not None:
                drills.stop()  # a backup never waits behind a restore drill: the drill runs again later
            result = run_backup_fn(cfg, trigger=trigger, cancel=stop)
            status = str(getattr(result, "status", "failed"))
            missing = getattr(result, "destination_missing", None)
            logger.info("%s backup finished: %s %s %s", trigger, status, getattr(result, "archive", "") or "",
                        getattr(result, "message", "") or "")
        except Exception:
            logger.exception("%s backup crashed", trigger)
        if missing is None:
            missing = status == "failed" and not Path(cfg.destination.folder).is_dir()
        scheduler.run_finished(status, destination_missing=bool(missing))

    def submit(trigger: str) -> None:
        thread = threading.Thread(target=work, args=(current["config"], trigger), name=f"respaldo-{trigger}")
        worker["thread"] = thread
        thread.start()

    sync: dict[str, Any] = {"thread": None, "due": clock()}

    def sync_work(cfg: Config) -> None:
        try:
            outcome = sync_fn(cfg, cancel=stop)
            message = getattr(outcome, "message", "")
            if message:
                logger.info("%s", message)
        except Exception:
            logger.exception("cloud sync crashed")

    def maybe_sync() -> None:
        cfg = current["config"]
        if sync_fn is None or cfg.cloud.provider == "none" or is_busy() or (drills is not None and drills.running):
            return
        running = sync["thread"]
        if running is not None and running.is_alive():
            return
        now = clock()
        if now < sync["due"]:
            return
        sync["due"] = now + SYNC_PERIOD
        thread = threading.Thread(target=sync_work, args=(cfg,), name="respaldo-nube")
        sync["thread"] = thread
        thread.start()

    cfg = current["config"]
    scheduler = BackupScheduler(
        cfg.schedule, submit=submit, is_busy=is_busy, clock=clock, config_path=config_path,
        destination_ready=destination_ready, tick_period=tick_period, catch_up_delay=catch_up_delay,
    )
    logger.info("running in the background: %s. %s", describe(cfg.schedule),
                format_next_run(scheduler.next_run(), clock()))
    notify_due = clock()
    while not stop.is_set():
        _reload_if_changed(config_path, current, scheduler, config_mod)
        scheduler.tick()
        maybe_sync()
        if drills is not None:
            syncing = sync["thread"] is not None and sync["thread"].is_alive()
            drills.maybe_start(current["config"], busy=is_busy() or syncing)
        if notify_fn is not None and clock() >= notify_due:
            notify_due = clock() + NOTIFY_PERIOD
            try:
                notify_fn(current["config"], clock(), config_path=config_path)
            except Exception:
                logger.exception("notices check failed")
        stop.wait(tick_period)
    thread = worker["thread"]
    if thread is not None and thread.is_alive():
        logger.info("stopping: waiting for the backup in progress to cancel")
        thread.join()
    if sync["thread"] is not None and sync["thread"].is_alive():
        sync["thread"].join()
    if drills is not None:
        drills.stop()
    logger.info("stopped")
    return 0


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


def _reload_if_changed(path: Path, current: dict[str, Any], scheduler: BackupScheduler, config_mod: Any) -> None:
    mtime = _mtime(path)
    if mtime is None or mtime == current["mtime"]:
        return
    current["mtime"] = mtime
    try:
        cfg = config_mod.load(path)
    except UserError as exc:
        logger.warning("config %s changed but cannot be used; keeping the previous one: %s", path, exc)
        return
    current["config"] = cfg
    scheduler.set_schedule(cfg.schedule)
    logger.info("config %s reloaded", path)
