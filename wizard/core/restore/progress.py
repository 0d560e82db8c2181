"""Numbered progress events of a restore ("Paso 2 de 4: Verificando el respaldo... 40 %") and the check of the
whole archive that opens every restore."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from wizard.core.archive import Manifest, read_manifest, verify_archive
from wizard.core.errors import Cancelled
from wizard.i18n import _

Report = Callable[["RestoreProgress"], None]


@dataclass
class RestoreProgress:
    """``phase``: download | verify | check | safety | restore | integrity | database (a dump loaded into its
    server); ``percent`` is for the phase."""

    phase: str
    percent: float
    current: str = ""
    step: int = 1
    steps: int = 1


def phase_sentence(phase: str) -> str:
    """What a restore is doing, for the progress line."""
    return {
        "download": _("Descargando el respaldo de la nube..."),
        "verify": _("Verificando el respaldo..."),
        "check": _("Revisando que el punto de venta esté cerrado..."),
        "safety": _("Guardando un respaldo de seguridad de los datos actuales..."),
        "restore": _("Restaurando los archivos..."),
        "integrity": _("Revisando las bases de datos..."),
        "database": _("Cargando la base de datos en el servidor..."),
    }.get(phase, "")


class StepProgress:
    """Numbered progress events for one restore."""

    def __init__(self, report: Report | None, steps: int, cancel: threading.Event):
        self.report = report
        self.steps = steps
        self.step = 0
        self.cancel = cancel
        self._last = (-1.0, "")

    def next(self, phase: str, current: str = "") -> None:
        self.step += 1
        self._last = (-1.0, "")
        self.emit(phase, 0.0, current)

    def emit(self, phase: str, percent: float, current: str = "") -> None:
        if self.report is None:
            return
        percent = round(min(max(percent, 0.0), 100.0), 1)
        if (percent, current) == self._last:
            return
        self._last = (percent, current)
        self.report(RestoreProgress(phase, percent, current, self.step, self.steps))

    def check_cancel(self) -> None:
        if self.cancel.is_set():
            raise Cancelled()


def verify_with_progress(archive: Path, steps: StepProgress) -> Manifest:
    """The whole archive verified (every member's CRC and SHA-256) as the "verify" step; its manifest."""
    manifest = read_manifest(archive)
    total = max(sum(f.size for f in manifest.files), 1)
    done = 0

    def progress(n: int) -> None:
        nonlocal done
        done += n
        steps.emit("verify", 100.0 * done / total)

    return verify_archive(archive, report=progress, cancel=steps.cancel)
