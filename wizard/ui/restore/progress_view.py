"""The dialog's second view while a restore runs: the step, the percent, the current file, and Cancelar
(turned off once files are being replaced in their original place)."""

from __future__ import annotations

import ttkbootstrap as ttk

from wizard.core import restore
from wizard.i18n import _
from wizard.ui.widgets import BOLD_FONT, HEADING_FONT, SMALL_FONT, WrapLabel


class ProgressView:
    """Part of RestoreDialog: builds the "progress" view and shows the job's progress events."""

    def _build_progress(self) -> None:
        view = self.progress_view = ttk.Frame(self, padding=(28, 28))
        view.columnconfigure(0, weight=1)
        self.progress_title = ttk.Label(view, text="", font=HEADING_FONT)
        self.progress_title.grid(row=0, column=0, columnspan=2, sticky="w")
        self.step_label = ttk.Label(view, text="", font=BOLD_FONT)
        self.step_label.grid(row=1, column=0, sticky="w", pady=(18, 0))
        self.percent_label = ttk.Label(view, text="", font=BOLD_FONT)
        self.percent_label.grid(row=1, column=1, sticky="e", pady=(18, 0))
        self.progress = ttk.Progressbar(view, maximum=100, bootstyle="success-striped")
        self.progress.grid(row=2, column=0, columnspan=2, sticky="ew", pady=6)
        self.current_label = ttk.Label(view, text="", bootstyle="secondary", font=SMALL_FONT)
        self.current_label.grid(row=3, column=0, columnspan=2, sticky="w")
        WrapLabel(view, text=_("No abras el punto de venta hasta que termine la restauración."),
                  bootstyle="secondary").grid(row=4, column=0, columnspan=2, sticky="ew", pady=(18, 0))
        self.cancel_button = ttk.Button(view, text=_("Cancelar"), bootstyle="danger-outline", command=self.cancel)
        self.cancel_button.grid(row=5, column=1, sticky="e", pady=(18, 0))

    def _progress(self, event: restore.RestoreProgress) -> None:
        self.step_label.configure(text=_("Paso {step} de {steps}: {phase}").format(
            step=event.step, steps=event.steps, phase=restore.phase_sentence(event.phase)))
        self.progress.configure(value=event.percent)
        self.percent_label.configure(text=_("{p:.0f} %").format(p=event.percent))
        current = event.current or ""
        self.current_label.configure(text=current if len(current) <= 70 else "..." + current[-67:])
        # Once files are being replaced, stopping halfway would leave a mix of old and restored files.
        if event.phase in ("restore", "integrity") and self.target_folder is None:
            self.cancel_button.state(["disabled"])

    def cancel(self) -> None:
        if self.running and not self.cancel_button.instate(["disabled"]):
            self.job.cancel()  # type: ignore[union-attr]
            self.cancel_button.state(["disabled"])
            self.cancel_button.configure(text=_("Cancelando..."))
