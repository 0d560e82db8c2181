"""Step 4, Nube (optional): none, Dropbox or Google Drive, signing in through the browser, and the account.

The sign-in itself is the provider's (``wizard.core.cloud``): it runs on a worker thread through
``SignInPanel``, which shows "Esperando al navegador...", a Cancel button, the address in case the browser
did not open, and asks for a pasted code (a small dialog on the Tk thread) when no browser could be opened.
The summary reuses the panel when the sign-in has to be renewed. The token goes to the keyring; the step
keeps only the account's name, which the wizard saves as ``cloud.account``.
"""

from __future__ import annotations

import copy
import logging
import threading
import tkinter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ttkbootstrap as ttk

from wizard.core import secrets
from wizard.core.cloud import SIGN_IN_TIMEOUT, CloudError, CloudProvider, get_provider
from wizard.core.config import CloudConfig, Config, Problem
from wizard.core.errors import Cancelled, UserError
from wizard.i18n import _
from wizard.ui.keyring_consent import allowed_by_config, ask_to_store_in_file, not_stored
from wizard.ui.pages.base import Step
from wizard.ui.text import log_location, provider_text, sign_in_button_text
from wizard.ui.widgets import BOLD_FONT, Notice, ProblemLabel, WrapLabel
from wizard.ui.worker import BackgroundCall, InteractiveCall

if TYPE_CHECKING:
    from wizard.ui.app import RespaldosWindow

logger = logging.getLogger(__name__)

PROVIDER_CHOICES = ("none", "dropbox", "google_drive")


def unexpected_error_text() -> str:
    return _(
        "No se pudo iniciar sesión por un error inesperado. Los detalles se guardaron en el registro: {log}"
    ).format(log=log_location())


class SignInPanel(ttk.Frame):
    """Signs in to one provider on a worker thread and shows how it goes; the Tk thread never waits.

    ``on_success(provider_name, account_label)`` runs on the Tk thread once the credentials are stored;
    ``on_change()`` whenever ``busy`` changes. ``message`` is the last sentence shown (an error, the
    timeout, "cancelado"), ``url`` the address given to the browser.
    """

    timeout = SIGN_IN_TIMEOUT

    def __init__(
        self,
        master: tkinter.Misc,
        app: RespaldosWindow,
        *,
        on_success: Callable[[str, str], None],
        on_change: Callable[[], None] | None = None,
    ):
        super().__init__(master)
        self.app = app
        self.on_success = on_success
        self.on_change = on_change
        self.call: InteractiveCall | None = None
        self.cancel_event = threading.Event()
        self.provider: CloudProvider | None = None
        self._restart: tuple[CloudConfig, bool] | None = None  # what start() was given, to start again
        self.url = ""
        self.columnconfigure(0, weight=1)

        self.wait_row = ttk.Frame(self, padding=(0, 10, 0, 0))
        self.wait_row.columnconfigure(1, weight=1)
        self.spinner = ttk.Progressbar(self.wait_row, mode="indeterminate", length=90, bootstyle="info")
        self.spinner.grid(row=0, column=0, padx=(0, 10))
        self.wait_label = ttk.Label(self.wait_row, text="", font=BOLD_FONT)
        self.wait_label.grid(row=0, column=1, sticky="w")
        self.cancel_button = ttk.Button(
            self.wait_row, text=_("Cancelar"), bootstyle="secondary-outline", command=self.cancel
        )
        self.cancel_button.grid(row=0, column=2, padx=(10, 0))

        self.url_row = ttk.Frame(self, padding=(0, 8, 0, 0))
        self.url_row.columnconfigure(0, weight=1)
        WrapLabel(
            self.url_row,
            text=_("Si el navegador no se abrió, copia esta dirección en un navegador:"),
            bootstyle="secondary",
        ).grid(row=0, column=0, columnspan=2, sticky="ew")
        # No Tk variable here: the summary holds this panel, and a variable freed by the garbage collector on
        # a worker thread upsets Tk.
        self.url_entry = ttk.Entry(self.url_row, state="readonly")
        self.url_entry.grid(row=1, column=0, sticky="ew", pady=(2, 0))
        self.copy_button = ttk.Button(
            self.url_row, text=_("Copiar"), bootstyle="secondary-outline", command=self.copy_url
        )
        self.copy_button.grid(row=1, column=1, padx=(8, 0), pady=(2, 0))

        self.message_label = WrapLabel(self, text="", padding=(0, 8, 0, 0))

    # -- state ------------------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self.call is not None

    @property
    def message(self) -> str:
        return str(self.message_label.cget("text")) if self.message_label.winfo_manager() else ""

    @property
    def waiting_text(self) -> str:
        return str(self.wait_label.cget("text")) if self.wait_row.winfo_manager() else ""

    def show_message(self, text: str, bootstyle: str = "default") -> None:
        if text:
            self.message_label.configure(text=text, bootstyle=bootstyle)
            self.message_label.grid(row=2, column=0, sticky="ew")
        else:
            self.message_label.grid_forget()
            self._shrink_if_empty()

    def _shrink_if_empty(self) -> None:
        # A frame whose last gridded child leaves keeps its old size; asking for 1x1 lets it collapse.
        if not self.grid_slaves():
            self.configure(width=1, height=1)

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    # -- signing in -------------------------------------------------------------------------------

    def start(self, cloud: CloudConfig, *, use_browser: bool = True, allow_file: bool = False) -> bool:
        """Sign in to ``cloud.provider`` on a worker thread. False (with the sentence shown) when this
        build cannot sign in there at all. With no system keyring the provider refuses before the browser
        opens; the user is asked, and ``allow_file`` (or the config's ``[secrets] allow_file``) lets the
        credentials go to the file."""
        self.cancel()
        self.show_message("")
        self._restart = (copy.deepcopy(cloud), use_browser)
        allowed = allow_file or allowed_by_config(self.app)
        try:
            provider = get_provider(copy.deepcopy(cloud))
        except CloudError as exc:
            self.show_message(str(exc), "danger")
            return False
        self.provider = provider
        self.cancel_event = threading.Event()
        cancel = self.cancel_event
        timeout = self.timeout

        def work(call: InteractiveCall) -> str:
            try:
                with secrets.allow_file_storage(allowed):
                    return provider.sign_in(
                        cancel=cancel,
                        timeout=timeout,
                        show_url=lambda url: call.tell("url", url),
                        ask_code=lambda url: call.ask("code", url, cancel),
                        use_browser=use_browser,
                    )
            finally:
                provider.close()

        self._set_url("")
        self.url_row.grid_forget()
        self.wait_label.configure(text=_("Esperando al navegador..."))
        self.cancel_button.state(["!disabled"])
        self.wait_row.grid(row=0, column=0, sticky="ew")
        self.spinner.start(20)
        self.call = InteractiveCall(self, work, self._done, self._failed, self._message).start()
        logger.info("sign-in to %s started", provider.name)
        self._changed()
        return True

    def cancel(self) -> None:
        """Stop waiting: the provider gives up, stores nothing, and the config stays as it was."""
        if self.call is None:
            return
        self.cancel_event.set()
        self.call.cancel()
        self.call = None
        self._stop_waiting()
        self.show_message(_("Inicio de sesión cancelado. No se guardó nada."), "secondary")
        self._changed()

    def _stop_waiting(self) -> None:
        self.spinner.stop()
        self.wait_row.grid_forget()
        self.url_row.grid_forget()
        self._shrink_if_empty()

    def _message(self, kind: str, payload: Any) -> Any:
        if kind == "url":
            self._set_url(str(payload))
            self.url_row.grid(row=1, column=0, sticky="ew")
            return None
        if kind == "code":
            provider = self.provider
            if provider is None:
                return None
            hint, prompt = provider.paste_hint()
            self.wait_label.configure(text=_("Esperando la autorización..."))
            return self.app.dialogs.ask_code(str(payload), provider.title, hint, prompt)
        return None

    def _done(self, label: str) -> None:
        self.call = None
        self._stop_waiting()
        self.show_message("")
        provider = self.provider
        logger.info("signed in to %s", provider.name if provider else "?")
        if provider is not None:
            self.on_success(provider.name, str(label))
        self._changed()

    def _failed(self, exc: BaseException) -> None:
        self.call = None
        self._stop_waiting()
        if isinstance(exc, Cancelled):
            self.show_message(_("Inicio de sesión cancelado. No se guardó nada."), "secondary")
        elif isinstance(exc, secrets.KeyringUnavailable):
            self._changed()
            if ask_to_store_in_file(self.app.dialogs, exc) and self._restart is not None:
                cloud, use_browser = self._restart
                self.start(cloud, use_browser=use_browser, allow_file=True)
                return
            self.show_message(not_stored(exc), "danger")
        elif isinstance(exc, UserError):
            self.show_message(str(exc), "danger")
        else:
            self.show_message(unexpected_error_text(), "danger")
        self._changed()

    def _set_url(self, url: str) -> None:
        self.url = url
        self.url_entry.configure(state="normal")
        self.url_entry.delete(0, "end")
        self.url_entry.insert(0, url)
        self.url_entry.configure(state="readonly")

    def copy_url(self) -> None:
        self.clipboard_clear()
        self.clipboard_append(self.url)

    def destroy(self) -> None:
        if self.call is not None:
            self.cancel_event.set()
            self.call.cancel()
            self.call = None
        super().destroy()


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
        self.stored: dict[str, bool] = {}  # provider -> its credentials are on this computer
        self._check_call: BackgroundCall | None = None
        self._signout_call: BackgroundCall | None = None
        box = self.content
        self.provider_var = ttk.StringVar(value="none")
        choices = ttk.Frame(box)
        choices.grid(row=0, column=0, sticky="w")
        self.radios = {}
        for i, provider in enumerate(PROVIDER_CHOICES):
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
        self.signin.columnconfigure(0, weight=1)
        buttons = ttk.Frame(self.signin)
        buttons.grid(row=0, column=0, sticky="w")
        self.dropbox_button = ttk.Button(
            buttons,
            text=sign_in_button_text("dropbox"),
            bootstyle="primary",
            command=lambda: self.sign_in("dropbox"),
        )
        self.google_button = ttk.Button(
            buttons,
            text=sign_in_button_text("google_drive"),
            bootstyle="primary",
            command=lambda: self.sign_in("google_drive"),
        )
        self.sign_in_buttons = {"dropbox": self.dropbox_button, "google_drive": self.google_button}
        self.disconnect_button = ttk.Button(
            buttons, text=_("Desconectar"), bootstyle="secondary-outline", command=self.disconnect
        )
        self.account_label = ttk.Label(self.signin, text="")
        self.account_label.grid(row=1, column=0, sticky="w", pady=(8, 0))
        self.panel = SignInPanel(self.signin, self.app, on_success=self._signed_in, on_change=self._panel_changed)
        self.panel.grid(row=2, column=0, sticky="ew")
        self.account_problem = ProblemLabel(self.signin)
        self.account_problem.grid(row=3, column=0, sticky="ew")
        self.problem_labels["cloud.account"] = self.account_problem
        self.problem_labels["cloud.provider"] = self.account_problem

        folder_row = ttk.Frame(self.signin, padding=(0, 10, 0, 0))
        folder_row.grid(row=4, column=0, sticky="ew")
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
        self.folder_var.trace_add("write", self.changed)

    # -- config ---------------------------------------------------------------------------------

    def load(self, config: Config) -> None:
        self.provider_var.set(config.cloud.provider)
        self.folder_var.set(config.cloud.folder)
        self.account = config.cloud.account
        self._account_provider = config.cloud.provider if config.cloud.account else ""
        self.stored.clear()
        self._provider_changed()

    def store(self, config: Config) -> None:
        provider = self.provider_var.get()
        config.cloud.provider = provider
        config.cloud.folder = self.folder_var.get().strip()
        config.cloud.account = self.account if provider == self._account_provider else ""

    @property
    def connected(self) -> bool:
        """The chosen provider has an account here and its credentials are stored on this computer."""
        provider = self.provider_var.get()
        return bool(self.account) and self._account_provider == provider and self.stored.get(provider) is True

    @property
    def busy(self) -> bool:
        return self.panel.busy or self._check_call is not None or self._signout_call is not None

    def extra_problems(self, config: Config) -> list[Problem]:
        provider = self.provider_var.get()
        if provider == "none" or self.connected or self.busy:
            return []
        title, button = provider_text(provider), sign_in_button_text(provider)
        if self.account and self._account_provider == provider:
            message = _(
                "La sesión de {provider} no está iniciada en esta computadora. Pulsa «{button}» o elige "
                "«Ninguna»."
            )
        else:
            message = _("Para usar {provider}, pulsa «{button}». Si no, elige «Ninguna».")
        return [Problem("cloud.account", message.format(provider=title, button=button))]

    # -- actions --------------------------------------------------------------------------------

    def cloud_config(self, provider: str) -> CloudConfig:
        """The draft's cloud section (app key, folder) for ``provider``: what it needs to sign in."""
        cloud = copy.deepcopy(self.wizard.draft.cloud)
        cloud.provider = provider
        cloud.folder = self.folder_var.get().strip() or cloud.folder
        return cloud

    def sign_in(self, provider: str) -> None:
        """The "Iniciar sesión con ..." button: the browser sign-in runs on a worker thread."""
        if self._signout_call is not None:
            return
        self.panel.start(self.cloud_config(provider))
        self._show_account()

    def _panel_changed(self) -> None:
        """The sign-in started or ended (signed in, cancelled, failed): buttons and Next follow."""
        self._show_account()
        self.changed()

    def _signed_in(self, provider: str, label: str) -> None:
        self.account = label
        self._account_provider = provider
        self.stored[provider] = True
        self._show_account()

    def disconnect(self) -> None:
        """ "Desconectar": forget the token on this computer (revoking it when online) and the account."""
        provider = self._account_provider or self.provider_var.get()
        title = provider_text(provider)
        if not self.app.dialogs.confirm(
            _("¿Desconectar {provider}? Los respaldos dejarán de subirse a la nube.").format(provider=title),
            yes=_("Desconectar"),
            no=_("Cancelar"),
        ):
            return
        try:
            instance = get_provider(self.cloud_config(provider))
        except CloudError as exc:
            self.panel.show_message(str(exc), "danger")
            return

        def sign_out() -> None:
            try:
                instance.sign_out()
            finally:
                instance.close()

        self._signout_call = BackgroundCall(
            self, sign_out, lambda _r: self._signed_out(provider), lambda exc: self._signout_failed(exc)
        ).start()
        self._show_account()
        self.changed()

    def _signed_out(self, provider: str) -> None:
        self._signout_call = None
        self.stored[provider] = False
        if self._account_provider == provider:
            self.account = ""
            self._account_provider = ""
        text = _("Se cerró la sesión de {provider} en esta computadora.")
        self.panel.show_message(text.format(provider=provider_text(provider)), "secondary")
        self._show_account()
        self.changed()

    def _signout_failed(self, exc: BaseException) -> None:
        self._signout_call = None
        self.panel.show_message(str(exc) if isinstance(exc, UserError) else unexpected_error_text(), "danger")
        self._show_account()
        self.changed()

    def _check_stored(self, provider: str) -> None:
        """Are ``provider``'s credentials on this computer? A worker asks (the keyring may be slow)."""
        if provider == "none" or provider in self.stored or self._check_call is not None:
            return
        cloud = self.cloud_config(provider)

        def ask() -> bool:
            try:
                return get_provider(cloud).signed_in()
            except CloudError:
                return False

        def answered(value: bool) -> None:
            self._check_call = None
            self.stored[provider] = bool(value)
            self._show_account()
            self.changed()
            self._check_stored(self.provider_var.get())  # the choice may have changed meanwhile

        def failed(_exc: BaseException) -> None:
            answered(False)

        self._check_call = BackgroundCall(self, ask, answered, failed).start()

    def _provider_changed(self) -> None:
        provider = self.provider_var.get()
        if self.panel.busy and self.panel.provider is not None and self.panel.provider.name != provider:
            self.panel.cancel()
        if provider == "none":
            self.signin.grid_forget()
            self.advice.grid_forget()
        else:
            self.signin.grid(row=1, column=0, sticky="ew")
            self.advice.grid(row=2, column=0, sticky="ew", pady=(14, 0))
            self._check_stored(provider)
        self._show_account()
        self.changed()

    def _show_account(self) -> None:
        provider = self.provider_var.get()
        for button in (*self.sign_in_buttons.values(), self.disconnect_button):
            button.pack_forget()
        if provider == "none":
            return
        button = self.sign_in_buttons[provider]
        if self.connected:
            self.disconnect_button.pack(side="left")
            self.account_label.configure(
                text=_("Cuenta conectada: {account}").format(account=self.account), bootstyle="success"
            )
        else:
            button.pack(side="left")
            self.account_label.configure(text=_("Sin cuenta conectada."), bootstyle="secondary")
        busy = self.panel.busy or self._signout_call is not None
        for widget in (button, self.disconnect_button):
            widget.state(["disabled"] if busy else ["!disabled"])

    def on_show(self) -> None:
        self.radios[self.provider_var.get()].focus_set()

    def on_hide(self) -> None:
        self.panel.cancel()

    def destroy(self) -> None:
        for call in (self._check_call, self._signout_call):
            if call is not None:
                call.cancel()
        self._check_call = self._signout_call = None
        super().destroy()
