"""The wizard's "Proteger los respaldos con contraseña" (issue 19), on the retention step: the option, what it
covers ([encryption] scope), the password and the recovery sheet.

Turning it on asks for a password when this computer has none, then shows the recovery sheet; the step's Next
stays off until the user ticked that they saved or printed the sheet (in this edit, or the config had it on
already with the password here). The keys go into the draft config, which the wizard saves as usual.
"""

from __future__ import annotations

import logging
import tkinter
from typing import TYPE_CHECKING

import ttkbootstrap as ttk

from wizard.core.config import Config, Problem
from wizard.core.encryption import password as passwords
from wizard.i18n import _
from wizard.ui.password_dialogs import NewPasswordDialog, RecoverySheetDialog
from wizard.ui.widgets import ProblemLabel, WrapLabel, set_enabled

if TYPE_CHECKING:
    from wizard.ui.pages.base import Step

logger = logging.getLogger(__name__)


def encryption_sentence(config: Config) -> str:
    """The summary's line: "activada (solo las copias en la nube)", "activada (todas las copias)",
    "desactivada"."""
    encryption = config.encryption
    if not encryption.enabled:
        return _("desactivada")
    text = (_("activada (solo las copias en la nube)") if encryption.scope == "cloud"
            else _("activada (todas las copias)"))
    if passwords.get_password(config) is None:
        text += " " + _("— falta la contraseña en este equipo: ponla en «Modificar configuración».")
    return text


class EncryptionPanel(ttk.Frame):
    """The option, the two scopes, the state of the password and its buttons, and the problem line."""

    def __init__(self, master: tkinter.Misc, step: Step):
        super().__init__(master)
        self.step = step
        self.columnconfigure(0, weight=1)
        self.dialog: NewPasswordDialog | RecoverySheetDialog | None = None
        self.sheet_seen = False  # the recovery sheet was confirmed in this edit (or before: see load)
        self._password: str | None = None  # typed in this edit, for the sheet; never logged
        self.enabled_var = tkinter.BooleanVar(master=self, value=False)
        self.enabled_check = ttk.Checkbutton(self, text=_("Proteger los respaldos con contraseña"),
                                             variable=self.enabled_var, command=self._toggled)
        self.enabled_check.grid(row=0, column=0, sticky="w")
        WrapLabel(self, text=_(
            "Cifra los respaldos (AES-256): quien tenga la memoria USB o entre a la nube no puede abrirlos sin la "
            "contraseña. Se abren con 7-Zip en cualquier computadora."), bootstyle="secondary",
            padding=(24, 0, 0, 0)).grid(row=1, column=0, sticky="ew")
        self.scope_var = tkinter.StringVar(master=self, value="cloud")
        self.scope_radios = [
            ttk.Radiobutton(self, text=text, value=value, variable=self.scope_var, command=self.step.changed)
            for value, text in (("cloud", _("Solo las copias en la nube")),
                                ("all", _("También las copias en este equipo")))
        ]
        for i, radio in enumerate(self.scope_radios):
            radio.grid(row=2 + i, column=0, sticky="w", padx=(24, 0), pady=1)
        self.state_label = WrapLabel(self, text="", padding=(24, 4, 0, 0))
        self.state_label.grid(row=4, column=0, sticky="ew")
        buttons = ttk.Frame(self, padding=(24, 4, 0, 0))
        buttons.grid(row=5, column=0, sticky="w")
        self.change_button = ttk.Button(buttons, text=_("Cambiar la contraseña…"), bootstyle="secondary-outline",
                                        command=self.change_password)
        self.change_button.pack(side="left")
        self.sheet_button = ttk.Button(buttons, text=_("Hoja de recuperación…"), bootstyle="secondary-outline",
                                       command=self.show_sheet)
        self.sheet_button.pack(side="left", padx=(8, 0))
        self.problem = ProblemLabel(self, padding=(24, 0, 0, 0))
        self.problem.grid(row=6, column=0, sticky="ew")

    # -- config ---------------------------------------------------------------------------------

    def load(self, config: Config) -> None:
        self.enabled_var.set(config.encryption.enabled)
        self.scope_var.set(config.encryption.scope)
        # Already on, with its password here: its sheet was shown when it was turned on.
        self.sheet_seen = config.encryption.enabled and passwords.get_password(config) is not None
        self._update()

    def store(self, config: Config) -> None:
        config.encryption.enabled = bool(self.enabled_var.get())
        config.encryption.scope = self.scope_var.get()

    def problems(self, config: Config) -> list[Problem]:
        if not config.encryption.enabled:
            return []
        if self._stored_password() is None:
            return [Problem("encryption", _("Falta la contraseña: elígela con «Cambiar la contraseña…».")), ]
        if not self.sheet_seen:
            return [Problem("encryption", _(
                "Guarda o imprime la hoja de recuperación y marca que lo hiciste (botón «Hoja de recuperación…»): "
                "sin ella, perder la contraseña es perder los respaldos."))]
        if config.encryption.scope == "cloud" and config.cloud.provider == "none":
            return [Problem("encryption.scope", _(
                "No hay nube elegida: con «Solo las copias en la nube» nada se cifraría. Elige «También las "
                "copias en este equipo» o una nube en el paso Nube."))]
        return []

    # -- actions --------------------------------------------------------------------------------

    def _stored_password(self) -> str | None:
        return passwords.get_password(self.step.wizard.draft)

    def _toggled(self) -> None:
        if self.enabled_var.get() and not self.sheet_seen:
            if self._stored_password() is None:
                self.change_password(turning_on=True)
            else:
                self.show_sheet()
        self._update()
        self.step.changed()

    def change_password(self, turning_on: bool = False) -> None:
        def done(value: str | None) -> None:
            self.dialog = None
            if value is None:
                if turning_on:
                    self.enabled_var.set(False)
            else:
                self._password = value
                self.sheet_seen = False  # a new password needs its new sheet
                self.show_sheet()
            self._update()
            self.step.changed()

        self.step.store(self.step.wizard.draft)
        self.dialog = NewPasswordDialog(self, self.step.wizard.draft, self.step.app.dialogs, done)

    def show_sheet(self) -> None:
        value = self._password or self._stored_password()
        if value is None:
            self.change_password()
            return

        def done(kept: bool) -> None:
            self.dialog = None
            self.sheet_seen = self.sheet_seen or kept
            self._update()
            self.step.changed()

        self.step.store(self.step.wizard.draft)
        self.dialog = RecoverySheetDialog(self, self.step.wizard.draft, value, done)

    def _update(self) -> None:
        enabled = bool(self.enabled_var.get())
        for radio in self.scope_radios:
            set_enabled(radio, enabled)
        has_password = self._password is not None or self._stored_password() is not None
        set_enabled(self.sheet_button, has_password)
        if not enabled:
            self.state_label.configure(text="")
        elif not has_password:
            self.state_label.configure(text=_("Todavía no hay contraseña en este equipo."))
        elif self.sheet_seen:
            self.state_label.configure(text=_("La contraseña está guardada en este equipo. Si la cambias, los "
                                              "respaldos anteriores se siguen abriendo con la anterior."))
        else:
            self.state_label.configure(text=_("La contraseña está guardada en este equipo; falta confirmar la "
                                              "hoja de recuperación."))

    @property
    def state_text(self) -> str:
        return str(self.state_label.cget("text"))
