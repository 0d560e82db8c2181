"""Step 4, Nube (optional): none, Dropbox or Google Drive, and the sign-in buttons.

Cloud sign-in comes with the cloud issues; until then the buttons say so plainly. ``sign_in`` is the one
place to connect them: it should return the account name (an e-mail) or None.
"""

from __future__ import annotations

import ttkbootstrap as ttk

from wizard.core.config import Config, Problem
from wizard.i18n import _
from wizard.ui.pages.base import Step
from wizard.ui.text import provider_text
from wizard.ui.widgets import BOLD_FONT, Notice, ProblemLabel, WrapLabel


class CloudStep(Step):
    section = "cloud"
    short_title = _("Nube (opcional)")
    heading = _("¿Guardar también una copia en la nube?")
    intro = _(
        "Es opcional. Una copia en Dropbox o Google Drive te protege aunque se pierdan la computadora "
        "y la memoria USB. Los respaldos se siguen guardando también en la carpeta del paso anterior."
    )

    def build(self) -> None:
        self.account = ""
        self._account_provider = ""
        box = self.content
        self.provider_var = ttk.StringVar(value="none")
        choices = ttk.Frame(box)
        choices.grid(row=0, column=0, sticky="w")
        self.radios = {}
        for i, provider in enumerate(("none", "dropbox", "google_drive")):
            radio = ttk.Radiobutton(
                choices,
                text=provider_text(provider),
                value=provider,
                variable=self.provider_var,
                command=self._provider_changed,
            )
            radio.grid(row=i, column=0, sticky="w", pady=3)
            self.radios[provider] = radio

        self.signin = ttk.Frame(box, padding=(0, 14, 0, 0))
        self.signin.grid(row=1, column=0, sticky="ew")
        self.signin.columnconfigure(1, weight=1)
        self.dropbox_button = ttk.Button(
            self.signin,
            text=_("Iniciar sesión con Dropbox"),
            bootstyle="primary",
            command=lambda: self.sign_in("dropbox"),
        )
        self.google_button = ttk.Button(
            self.signin,
            text=_("Iniciar sesión con Google"),
            bootstyle="primary",
            command=lambda: self.sign_in("google_drive"),
        )
        self.account_label = ttk.Label(self.signin, text="")
        self.account_label.grid(row=1, column=0, columnspan=2, sticky="w", pady=(8, 0))
        self.account_problem = ProblemLabel(self.signin)
        self.account_problem.grid(row=2, column=0, columnspan=2, sticky="ew")
        self.problem_labels["cloud.account"] = self.account_problem
        self.problem_labels["cloud.provider"] = self.account_problem

        folder_row = ttk.Frame(self.signin, padding=(0, 10, 0, 0))
        folder_row.grid(row=3, column=0, columnspan=2, sticky="ew")
        folder_row.columnconfigure(1, weight=1)
        ttk.Label(folder_row, text=_("Carpeta en la nube:"), font=BOLD_FONT).grid(
            row=0, column=0, padx=(0, 8)
        )
        self.folder_var = ttk.StringVar(value="/Respaldos")
        self.folder_entry = ttk.Entry(folder_row, textvariable=self.folder_var, width=30)
        self.folder_entry.grid(row=0, column=1, sticky="w")
        self.folder_problem = ProblemLabel(folder_row)
        self.folder_problem.grid(row=1, column=1, sticky="ew")
        self.problem_labels["cloud.folder"] = self.folder_problem

        self.advice = Notice(
            box,
            bootstyle="info",
            text=_(
                "Entra de vez en cuando a Dropbox o Google Drive para confirmar que los respaldos se están "
                "subiendo, y vigila que no se llene tu espacio en la nube."
            ),
        )
        self.later = WrapLabel(self.signin, bootstyle="secondary", text="")
        self.folder_var.trace_add("write", self.changed)

    # -- config ---------------------------------------------------------------------------------

    def load(self, config: Config) -> None:
        self.provider_var.set(config.cloud.provider)
        self.folder_var.set(config.cloud.folder)
        self.account = config.cloud.account
        self._account_provider = config.cloud.provider if config.cloud.account else ""
        self._provider_changed()

    def store(self, config: Config) -> None:
        provider = self.provider_var.get()
        config.cloud.provider = provider
        config.cloud.folder = self.folder_var.get().strip()
        config.cloud.account = self.account if provider == self._account_provider else ""

    def extra_problems(self, config: Config) -> list[Problem]:
        provider = self.provider_var.get()
        if provider != "none" and not config.cloud.account:
            button = (
                _("Iniciar sesión con Dropbox") if provider == "dropbox" else _("Iniciar sesión con Google")
            )
            return [
                Problem(
                    "cloud.account",
                    _("Para usar {provider}, pulsa «{button}». Si no, elige «Ninguna».").format(
                        provider=provider_text(provider), button=button
                    ),
                )
            ]
        return []

    # -- actions --------------------------------------------------------------------------------

    def sign_in(self, provider: str) -> None:
        """Connect an account. The cloud issues replace this; for now it says plainly it is not there yet."""
        self.app.dialogs.info(
            _(
                "Conectar {provider} llegará en una próxima versión de Respaldos. Por ahora elige «Ninguna» "
                "y guarda los respaldos en una memoria USB o un disco externo."
            ).format(provider=provider_text(provider)),
            _("Próximamente"),
        )

    def _provider_changed(self) -> None:
        provider = self.provider_var.get()
        self.dropbox_button.grid_forget()
        self.google_button.grid_forget()
        if provider == "none":
            self.signin.grid_forget()
            self.advice.grid_forget()
            self.later.grid_forget()
        else:
            self.signin.grid(row=1, column=0, sticky="ew")
            button = self.dropbox_button if provider == "dropbox" else self.google_button
            button.grid(row=0, column=0, sticky="w")
            self.later.configure(text=_("La conexión con la nube llegará en una próxima versión."))
            self.later.grid(row=0, column=1, sticky="ew", padx=(12, 0))
            if self.account and self._account_provider == provider:
                self.account_label.configure(
                    text=_("Cuenta conectada: {account}").format(account=self.account), bootstyle="success"
                )
            else:
                self.account_label.configure(text=_("Sin cuenta conectada."), bootstyle="secondary")
            self.advice.grid(row=2, column=0, sticky="ew", pady=(14, 0))
        self.changed()

    def on_show(self) -> None:
        self.radios[self.provider_var.get()].focus_set()
