"""The restore's worker thread: a restore (or a database load) runs off the Tk thread; its progress, the
questions it asks and its end reach the dialog on the Tk thread through the worker bridge's queue."""

from __future__ import annotations

import logging
import queue
import threading
import tkinter
import traceback
from collections.abc import Callable
from typing import Any

from wizard.core.errors import Cancelled, UserError
from wizard.ui.worker import EventBridge

logger = logging.getLogger(__name__)


class RestoreJob(EventBridge):
    """Runs ``func(report, cancel)`` on a thread; progress, result and errors arrive on the Tk thread."""

    def __init__(self, widget: tkinter.Misc, func: Callable[[Callable[[Any], None], threading.Event], Any], *,
                 on_progress: Callable[[Any], None], on_done: Callable[[Any], None],
                 on_error: Callable[[BaseException], None], on_ask: Callable[[Any], bool] | None = None):
        super().__init__(widget)
        self.func = func
        self.on_progress = on_progress
        self.on_done = on_done
        self.on_error = on_error
        self.on_ask = on_ask
        self.cancel_event = threading.Event()
        self.thread = threading.Thread(target=self._run, name="restauracion", daemon=True)

    @property
    def running(self) -> bool:
        return not self._finished

    def start(self) -> RestoreJob:
        self.thread.start()
        self.start_polling()
        return self

    def cancel(self) -> None:
        self.cancel_event.set()

    def report(self, event: Any) -> None:
        """Called by the engine on the worker thread: only a queue put."""
        self.events.put(("progress", event))

    def ask(self, payload: Any) -> bool:
        """Worker thread: ``on_ask(payload)``'s answer on the Tk thread (False once cancelled)."""
        reply: queue.Queue[bool] = queue.Queue(maxsize=1)
        self.events.put(("ask", (payload, reply)))
        while not self.cancel_event.is_set():
            try:
                return reply.get(timeout=0.1)
            except queue.Empty:
                continue
        return False

    def _run(self) -> None:
        try:
            result = self.func(self.report, self.cancel_event)
        except BaseException as exc:  # noqa: BLE001 - handed to the Tk thread
            if not isinstance(exc, (UserError, Cancelled)):
                logger.error("restore failed with an unexpected error:\n%s", traceback.format_exc())
            self.events.put(("error", exc))
        else:
            self.events.put(("done", result))

    def handle(self, kind: str, payload: Any) -> None:
        if kind == "progress":
            self.on_progress(payload)
        elif kind == "done":
            self.on_done(payload)
        elif kind == "error":
            self.on_error(payload)
        elif kind == "ask":
            question, reply = payload
            reply.put(bool(self.on_ask(question)) if self.on_ask is not None else False)
