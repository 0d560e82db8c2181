"""The bridge between worker threads and the Tk thread.

Workers never touch widgets: they put events on a ``queue.Queue``; the Tk side drains it every 100 ms
with ``after`` and calls the page's callbacks there. A cancel ``threading.Event`` asks a run to stop.
"""

from __future__ import annotations

import logging
import queue
import threading
import tkinter
import traceback
from collections.abc import Callable
from typing import Any

from wizard.core.config import Config
from wizard.core.errors import Cancelled, UserError

logger = logging.getLogger(__name__)

POLL_MS = 100
FINAL_KINDS = frozenset({"done", "error"})  # the job ended; any other kind but "progress" is a message
# Progress events arrive for every 4 MiB written; only the newest matters to the screen.
MAX_EVENTS_PER_POLL = 500


class EventBridge:
    """A queue drained on the Tk thread with after(POLL_MS) until the job says it is done."""

    def __init__(self, widget: tkinter.Misc):
        self.widget = widget
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._after_id: str | None = None
        self._finished = False

    def start_polling(self) -> None:
        self._after_id = self.widget.after(POLL_MS, self._poll)

    def stop_polling(self) -> None:
        if self._after_id is not None:
            try:
                self.widget.after_cancel(self._after_id)
            except tkinter.TclError:
                pass
            self._after_id = None

    def _poll(self) -> None:
        self._after_id = None
        latest_progress = None
        finished: tuple[str, Any] | None = None
        for _n in range(MAX_EVENTS_PER_POLL):
            try:
                kind, payload = self.events.get_nowait()
            except queue.Empty:
                break
            if kind == "progress":
                latest_progress = payload
            elif kind in FINAL_KINDS:
                finished = (kind, payload)
                break
            else:  # a message the job sends while it runs (InteractiveCall): handled in order
                self.handle(kind, payload)
        if latest_progress is not None:
            self.handle("progress", latest_progress)
        if finished is not None:
            self._finished = True
            self.handle(*finished)
            return
        try:
            self._after_id = self.widget.after(POLL_MS, self._poll)
        except tkinter.TclError:
            pass  # the window is gone

    def handle(self, kind: str, payload: Any) -> None:
        raise NotImplementedError


class BackupWorker(EventBridge):
    """Runs ``wizard.core.jobs.run_backup_job`` in a thread and reports back on the Tk thread.

    ``on_progress(Progress)`` is called at most every 100 ms with the newest event; ``on_done`` gets the
    ``BackupResult``; ``on_error(exc, traceback_text)`` gets a bug (the engine returns results for user
    problems, so this means something unexpected).
    """

    def __init__(
        self,
        widget: tkinter.Misc,
        config: Config,
        *,
        trigger: str = "manual",
        on_progress: Callable[[Any], None] | None = None,
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException, str], None] | None = None,
        wait_for: threading.Thread | None = None,
    ):
        super().__init__(widget)
        self.config = config
        self.trigger = trigger
        self.wait_for = wait_for  # a cloud sync told to stop: the backup starts once it has stopped
        self.cancel_event = threading.Event()
        self.on_progress = on_progress
        self.on_done = on_done
        self.on_error = on_error
        self.thread: threading.Thread | None = None
        self.result: Any = None

    @property
    def running(self) -> bool:
        return self.thread is not None and not self._finished

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, name="respaldo", daemon=True)
        self.thread.start()
        self.start_polling()

    def cancel(self) -> None:
        self.cancel_event.set()

    def report(self, event: Any) -> None:
        """Called by the engine on the worker thread: only a queue put, never a widget."""
        self.events.put(("progress", event))

    def _run(self) -> None:
        try:
            from wizard.core import jobs  # when first used: the first window does not wait for the engine

            if self.wait_for is not None:
                self.wait_for.join()
            result = jobs.run_backup_job(
                self.config, trigger=self.trigger, report=self.report, cancel=self.cancel_event
            )
        except BaseException as exc:  # noqa: BLE001 - reported to the Tk thread, logged there
            self.events.put(("error", (exc, traceback.format_exc())))
        else:
            self.events.put(("done", result))

    def handle(self, kind: str, payload: Any) -> None:
        if kind == "progress":
            if self.on_progress:
                self.on_progress(payload)
        elif kind == "done":
            self.result = payload
            if self.on_done:
                self.on_done(payload)
        elif kind == "error":
            exc, text = payload
            logger.error("backup worker crashed:\n%s", text)
            if self.on_error:
                self.on_error(exc, text)


class BackgroundCall(EventBridge):
    """Runs ``func()`` in a thread and calls ``on_done(result)`` (or ``on_error(exc)``) on the Tk thread.

    Used for quick-but-maybe-slow file system questions (folder sizes, a USB drive waking up) so the
    window never freezes while they are answered. ``cancel()`` drops the answer.
    """

    def __init__(
        self,
        widget: tkinter.Misc,
        func: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[BaseException], None] | None = None,
    ):
        super().__init__(widget)
        self.func = func
        self.on_done = on_done
        self.on_error = on_error
        self.cancelled = False
        self.thread = threading.Thread(target=self._run, name="consulta", daemon=True)

    def start(self) -> BackgroundCall:
        self.thread.start()
        self.start_polling()
        return self

    def cancel(self) -> None:
        self.cancelled = True
        self.stop_polling()

    def _run(self) -> None:
        try:
            value = self.func()
        except Exception as exc:  # handed to the Tk thread
            logger.warning("background call failed", exc_info=True)
            self.events.put(("error", exc))
        else:
            self.events.put(("done", value))

    def handle(self, kind: str, payload: Any) -> None:
        if self.cancelled:
            return
        if kind == "done":
            self.on_done(payload)
        elif kind == "error" and self.on_error:
            self.on_error(payload)


class CloudSyncWorker(BackupWorker):
    """Uploads the pending cloud copies (``wizard.core.cloud.queue.sync_pending``) in a thread, like a backup:
    ``on_progress`` gets the UploadProgress events, ``on_done`` the CloudOutcome. ``cancel()`` stops it at
    the next chunk; the upload resumes from there the next time."""

    def __init__(self, widget: tkinter.Misc, config: Config, **kwargs: Any):
        super().__init__(widget, config, trigger="sync", **kwargs)

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, name="nube", daemon=True)
        self.thread.start()
        self.start_polling()

    def _run(self) -> None:
        try:
            from wizard.core.cloud.queue import sync_pending

            outcome = sync_pending(self.config, report=self.report, cancel=self.cancel_event)
        except BaseException as exc:  # noqa: BLE001 - reported to the Tk thread, logged there
            self.events.put(("error", (exc, traceback.format_exc())))
        else:
            self.events.put(("done", outcome))


class InteractiveCall(BackgroundCall):
    """A BackgroundCall whose function talks to the Tk thread while it runs.

    ``func(call)`` runs in the thread; there it may ``call.tell(kind, payload)`` (then
    ``on_message(kind, payload)`` runs on the Tk thread) or ``call.ask(kind, payload, cancel)``, which waits
    for what ``on_message`` returns (None once ``cancel`` is set or the call is cancelled). The cloud
    sign-in uses it for the address to show and the code the user pastes when no browser could be opened.
    """

    def __init__(
        self,
        widget: tkinter.Misc,
        func: Callable[[InteractiveCall], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[BaseException], None] | None = None,
        on_message: Callable[[str, Any], Any] | None = None,
    ):
        super().__init__(widget, lambda: func(self), on_done, on_error)
        self.on_message = on_message
        self._waiting: list[queue.Queue[Any]] = []

    def tell(self, kind: str, payload: Any) -> None:
        """Worker thread: hand ``payload`` to ``on_message`` on the Tk thread; does not wait."""
        self.events.put((kind, (payload, None)))

    def ask(self, kind: str, payload: Any, cancel: threading.Event | None = None) -> Any:
        """Worker thread: the Tk thread's answer to ``payload`` (None when cancelled meanwhile)."""
        reply: queue.Queue[Any] = queue.Queue(maxsize=1)
        self._waiting.append(reply)
        self.events.put((kind, (payload, reply)))
        while True:
            try:
                return reply.get(timeout=0.1)
            except queue.Empty:
                if self.cancelled or (cancel is not None and cancel.is_set()):
                    return None

    def _run(self) -> None:
        try:
            value = self.func()
        except (UserError, Cancelled) as exc:  # a sentence for the user, or the user's own Cancel
            self.events.put(("error", exc))
        except Exception as exc:  # a bug: logged here, reported on the Tk thread
            logger.exception("background call failed")
            self.events.put(("error", exc))
        else:
            self.events.put(("done", value))

    def cancel(self) -> None:
        super().cancel()
        for reply in self._waiting:
            if reply.empty():
                reply.put_nowait(None)

    def handle(self, kind: str, payload: Any) -> None:
        if kind in FINAL_KINDS:
            super().handle(kind, payload)
            return
        value, reply = payload
        answer = None
        try:
            if not self.cancelled and self.on_message is not None:
                answer = self.on_message(kind, value)
        finally:
            if reply is not None and reply.empty():
                reply.put_nowait(answer)


class ThreadInbox(EventBridge):
    """Calls handed over by threads that are not workers (the tray icon's, the single-copy channel's):
    ``post(func)`` from any thread, ``func()`` runs on the Tk thread at the next poll, in order. It never
    finishes: the poll goes on until ``stop_polling`` or the window is gone."""

    def __init__(self, widget: tkinter.Misc):
        super().__init__(widget)
        self.start_polling()

    def post(self, func: Callable[[], Any]) -> None:
        """Any thread: only a queue put."""
        self.events.put(("call", func))

    def handle(self, kind: str, payload: Any) -> None:
        if kind != "call":
            return
        try:
            payload()
        except Exception as exc:  # noqa: BLE001 - as for any Tk callback (logged, one sentence); polling goes on
            self.widget._root().report_callback_exception(type(exc), exc, exc.__traceback__)
