"""The wizard: six steps on the right, the list of steps on the left, Back / Next / Cancel below.

Next is enabled only when the step is valid for ``wizard.core.config.validate`` (plus the step's own
file-system checks); the reasons are shown beside the fields. Enter = Next, Esc = Cancel.
"""

from __future__ import annotations

import copy
import logging
import tkinter
from tkinter import font as tkfont
from typing import TYPE_CHECKING

import ttkbootstrap as ttk

from wizard.core import secrets, servers
from wizard.core.config import Config, DatabaseSource, Problem, validate
from wizard.i18n import _
from wizard.ui.pages.base import Step
from wizard.ui.pages.cloud import CloudStep
from wizard.ui.pages.destination import DestinationStep
from wizard.ui.pages.notify import NotifyStep
from wizard.ui.pages.retention import RetentionStep
from wizard.ui.pages.schedule import ScheduleStep
from wizard.ui.pages.source import SourceStep
from wizard.ui.widgets import BOLD_FONT, SMALL_FONT, WrapLabel

if TYPE_CHECKING:
    from wizard.ui.app import RespaldosWindow

logger = logging.getLogger(__name__)

STEP_CLASSES: list[type[Step]] = [SourceStep, DestinationStep, ScheduleStep, CloudStep, RetentionStep, NotifyStep]


class WizardPage(ttk.Frame):
    """Edits a copy of the config; ``finish`` hands it to the window to save."""

    def __init__(self, master: tkinter.Misc, app: RespaldosWindow, config: Config, *, first_run: bool):
        super().__init__(master)
        self.app = app
        self.first_run = first_run
        self.original = copy.deepcopy(config)
        self.draft = copy.deepcopy(config)
        self.index = 0
        self._loading = False
        self.source_size = None  # drives.SizeInfo, filled by the first step

        self.columnconfigure(1, weight=1)
        self.rowconfigure(0, weight=1)
        self._build_sidebar()
        self.body = ttk.Frame(self)
        self.body.grid(row=0, column=1, sticky="nsew")
        self.body.columnconfigure(0, weight=1)
        self.body.rowconfigure(0, weight=1)
        self._build_buttons()

        self.steps: list[Step] = [cls(self) for cls in STEP_CLASSES]
        self._loading = True
        for step in self.steps:
            step.load(self.draft)
        self._loading = False
        self.show_step(0)

    # -- layout ---------------------------------------------------------------------------------

    def _build_sidebar(self) -> None:
        # Wide enough for the longest step name in bold at any scaling (fonts are in points).
        bold = tkfont.nametofont(BOLD_FONT, root=self)
        names = [f"{len(STEP_CLASSES)}.  {cls.short_title}" for cls in STEP_CLASSES]
        width = max(bold.measure(n) for n in [*names, _("Modificar configuración")]) + 2 * 18 + 16
        side = ttk.Frame(self, bootstyle="@chrome", padding=(18, 24, 18, 18), width=max(width, 200))
        side.grid(row=0, column=0, rowspan=2, sticky="ns")
        side.grid_propagate(False)
        side.columnconfigure(0, weight=1)
        title = _("Configurar respaldos") if self.first_run else _("Modificar configuración")
        ttk.Label(side, text=title, font=BOLD_FONT, bootstyle="@chrome").grid(
            row=0, column=0, sticky="w", pady=(0, 16)
        )
        self.step_labels: list[ttk.Label] = []
        for i, cls in enumerate(STEP_CLASSES):
            label = ttk.Label(side, text="", bootstyle="@chrome", padding=(4, 6))
            label.grid(row=i + 1, column=0, sticky="ew")
            self.step_labels.append(label)
        side.rowconfigure(len(STEP_CLASSES) + 1, weight=1)
        hint = WrapLabel(
            side,
            text=_("Puedes volver a cambiar todo esto después con «Modificar configuración»."),
            bootstyle="@chrome secondary",
            font=SMALL_FONT,
        )
        hint.grid(row=len(STEP_CLASSES) + 2, column=0, sticky="sew")

    def _build_buttons(self) -> None:
        bar = ttk.Frame(self, padding=(28, 10, 28, 16))
        bar.grid(row=1, column=1, sticky="ew")
        bar.columnconfigure(1, weight=1)
        ttk.Separator(self).grid(row=1, column=1, sticky="new")
        self.cancel_button = ttk.Button(
            bar, text=_("Cancelar"), bootstyle="secondary-outline", command=self.cancel, width=12
        )
        self.cancel_button.grid(row=0, column=0, sticky="w")
        self.status = ttk.Label(bar, text="", bootstyle="secondary")
        self.status.grid(row=0, column=1, sticky="e", padx=12)
        self.back_button = ttk.Button(
            bar, text=_("Atrás"), bootstyle="secondary", command=self.back, width=12
        )
        self.back_button.grid(row=0, column=2, padx=(0, 8))
        self.next_button = ttk.Button(
            bar, text=_("Siguiente"), bootstyle="primary", command=self.next, width=18
        )
        self.next_button.grid(row=0, column=3)

    # -- navigation -----------------------------------------------------------------------------

    @property
    def step(self) -> Step:
        return self.steps[self.index]

    @property
    def is_last(self) -> bool:
        return self.index == len(self.steps) - 1

    def show_step(self, index: int) -> None:
        if 0 <= self.index < len(self.steps) and self.steps[self.index].winfo_ismapped():
            self.steps[self.index].on_hide()
        for step in self.steps:
            step.grid_forget()
        self.index = index
        self.step.grid(row=0, column=0, sticky="nsew")
        for i, (label, cls) in enumerate(zip(self.step_labels, STEP_CLASSES)):
            if i < index:
                label.configure(text=f"\u2713  {cls.short_title}", bootstyle="@chrome success", font="")
            elif i == index:
                label.configure(
                    text=f"{i + 1}.  {cls.short_title}", bootstyle="@chrome primary", font=BOLD_FONT
                )
            else:
                label.configure(text=f"{i + 1}.  {cls.short_title}", bootstyle="@chrome", font="")
        self.back_button.state(["disabled"] if index == 0 else ["!disabled"])
        self.next_button.configure(text=_("Guardar y terminar") if self.is_last else _("Siguiente"))
        self.status.configure(text="")
        self.step.on_show()
        self.revalidate()

    def problems_for(self, step: Step) -> list[Problem]:
        step.store(self.draft)
        sections = (step.section, *step.also_sections)
        problems = [p for p in validate(self.draft)
                    if any(p.key == s or p.key.startswith(s + ".") for s in sections)]
        return problems + step.extra_problems(self.draft)

    def revalidate(self) -> bool:
        """Check the visible step; show the reasons and enable Next only when there are none."""
        if self._loading:
            return False
        problems = self.problems_for(self.step)
        self.step.show_problems(problems)
        ok = not problems and not self.step.busy
        self.next_button.state(["!disabled"] if ok else ["disabled"])
        return ok

    def next(self) -> None:
        if not self.revalidate():
            self.app.root.bell()
            return
        if self.is_last:
            self.finish()
            return
        self.show_step(self.index + 1)

    def back(self) -> None:
        if self.index > 0:
            self.step.store(self.draft)
            self.show_step(self.index - 1)

    def finish(self) -> None:
        for step in self.steps:
            step.store(self.draft)
        for i, step in enumerate(self.steps):
            if self.problems_for(step):
                self.show_step(i)
                return
        self.app.finish_wizard(copy.deepcopy(self.draft))

    def folder_info(self):
        """What the destination step found out about the chosen folder (``drives.FolderInfo`` or None)."""
        for step in self.steps:
            if isinstance(step, DestinationStep):
                return step.info
        return None

    def has_changes(self) -> bool:
        for step in self.steps:
            step.store(self.draft)
        return self.draft != self.original

    def cancel(self) -> None:
        self.app.cancel_wizard(changed=self.has_changes())

    def stale_passwords(self, saved: Config | None) -> list[DatabaseSource]:
        """Database entries whose keyring password no entry of ``saved`` (the config on disk once the wizard
        closes) uses: removed or renamed since the config this edit started from, or added in this edit and
        not saved. Names are compared ignoring case, as some keyrings do (Windows Credential Manager): there
        deleting "Caja" would delete the password of "caja" too."""
        kept = {db.label.casefold() for db in (saved.source.databases if saved is not None else [])}
        source = next(step for step in self.steps if isinstance(step, SourceStep))
        stale: dict[str, DatabaseSource] = {}
        for db in [*self.original.source.databases, *source.passwords_stored]:
            if db.label.casefold() not in kept:
                stale.setdefault(servers.secret_name(db), db)
        return list(stale.values())

    def forget_stale_passwords(self, saved: Config | None) -> None:
        """Delete the passwords ``stale_passwords`` names. Call it when the wizard closes: after the save, or
        with the config still saved when it is cancelled (so a password of a saved entry is never lost)."""
        for db in self.stale_passwords(saved):
            try:
                secrets.delete_secret(servers.secret_name(db))
            except Exception:
                logger.exception("could not delete the stored password of the database %s", db.label)
            else:
                logger.info("password of the database %s deleted: no entry of the config uses it", db.label)

    # -- keys -----------------------------------------------------------------------------------

    def on_return(self, event: tkinter.Event) -> None:
        widget = event.widget
        # A focused button does its own thing on Enter (ttkbootstrap binds it); so does a multi-line text.
        if isinstance(widget, (ttk.Button, tkinter.Button, tkinter.Text)):
            return
        if self.next_button.instate(["disabled"]):
            self.app.root.bell()
            return
        self.next()

    def on_escape(self, event: tkinter.Event) -> None:
        self.cancel()

    def on_f8(self) -> None:
        if self.first_run:
            self.status.configure(text=_("Primero termina de configurar los respaldos."))
        else:
            self.status.configure(text=_("Guarda o cancela los cambios para respaldar."))
        self.app.root.bell()

    def destroy(self) -> None:
        for step in getattr(self, "steps", []):
            step.on_hide()
        super().destroy()
