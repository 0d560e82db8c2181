"""Step 6, Avisos (optional): who hears about a failed or missing backup, by e-mail, Telegram or a ping
address.

The fields are the ``[notify]`` section and the one validator checks them. The e-mail password and the bot
token never enter the config: "Guardar" (or Enter in their field) hands them to ``notify.set_password``,
which keeps them in the keyring; the step shows whether one is stored. "Enviar prueba" sends through every
channel the form describes (the unsaved draft) on a worker thread. ``NotifyStatusLine`` is the summary's
"Avisos:" line.
Design and setup guides: docs/notify.md.
"""

from __future__ import annotations

import copy
import logging
import os
import re
import tkinter
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import ttkbootstrap as ttk

from wizard.core import notify, secrets
from wizard.core.config import NOTIFY_EVENTS, SMTP_SECURITY, Config, NotifyConfig, Problem, validate
from wizard.core.errors import UserError
from wizard.core.notify import outbox
from wizard.i18n import _, ngettext
from wizard.ui.keyring_consent import allowed_by_config, ask_to_store_in_file, not_stored
from wizard.ui.pages.base import Step
from wizard.ui.text import format_when, log_location
from wizard.ui.widgets import BOLD_FONT, Notice, ProblemLabel, WrapLabel
from wizard.ui.worker import BackgroundCall

if TYPE_CHECKING:
    from wizard.ui.app import RespaldosWindow

logger = logging.getLogger(__name__)

SECURITY_PORTS = {"starttls": 587, "ssl": 465}
GMAIL = ("smtp.gmail.com", 587, "starttls")
_SPLIT_RE = re.compile(r"[,;\s]+")


def event_text(event: str) -> str:
    return {
        "failure": _("Si un respaldo falla"),
        "overdue": _("Si pasan días sin respaldo"),
        "weekly": _("Un resumen cada lunes"),
        "success": _("También cada respaldo correcto"),
    }[event]


def security_text(security: str) -> str:
    return {
        "starttls": _("STARTTLS (587)"),
        "ssl": _("SSL/TLS (465)"),
        "none": _("Sin cifrar (local)"),
    }[security]


def result_line(result: notify.ChannelResult) -> str:
    """One channel's test, in the words of ``respaldos notify test``."""
    title = result.title[:1].upper() + result.title[1:]
    if result.ok:
        return _("{title} a {target}: enviado").format(title=title, target=result.target)
    return _("{title} a {target}: no se pudo enviar: {reason}").format(
        title=title, target=result.target, reason=result.message
    )


class SecretField(ttk.Frame):
    """A password or bot token: typed here, stored in the keyring by "Guardar" (or Enter in the field), never
    kept in the config. ``stored`` is True / False once the keyring answered (None before). With no keyring,
    the window (``app``) asks before it goes to a file (wizard.ui.keyring_consent)."""

    def __init__(
        self,
        master: tkinter.Misc,
        kind: str,
        *,
        saved_text: str,
        missing_text: str,
        on_change: Callable[[], None],
        app: Any = None,
    ):
        super().__init__(master)
        self.app = app
        self.kind = kind
        self.saved_text = saved_text
        self.missing_text = missing_text
        self.on_change = on_change
        self.stored: bool | None = None
        self.error = ""
        self.call: BackgroundCall | None = None
        self._check_call: BackgroundCall | None = None
        self.columnconfigure(0, weight=1)
        self.var = ttk.StringVar()
        self.entry = ttk.Entry(self, textvariable=self.var, show="\u2022", width=24)
        self.entry.grid(row=0, column=0, sticky="ew")
        self.save_button = ttk.Button(
            self, text=_("Guardar"), bootstyle="secondary-outline", command=self.save
        )
        self.save_button.grid(row=0, column=1, padx=(8, 0))
        self.status = ttk.Label(self, text="", bootstyle="secondary")
        self.status.grid(row=1, column=0, columnspan=2, sticky="w")
        # Enter in the field saves what was typed (the window's Enter = Next would leave it unsaved).
        for key in ("<Return>", "<KP_Enter>"):
            self.entry.bind(key, self._on_return)
        self.var.trace_add("write", self._typed)

    @property
    def typed(self) -> str:
        return self.var.get()

    @property
    def saving(self) -> bool:
        return self.call is not None

    @property
    def status_text(self) -> str:
        return str(self.status.cget("text"))

    def problem(self) -> str:
        """Why Next waits for this field: the keyring refused the value, or it was typed and not saved."""
        if self.error:
            return self.error
        if self.typed and not self.saving:
            return _("Todavía no se guardó: pulsa «Guardar» (o Enter en el campo), o bórralo.")
        return ""

    def check(self) -> None:
        """Ask the keyring (on a worker: it may be slow to wake) whether a value is stored."""
        if self._check_call is not None:
            return

        def answered(value: Any) -> None:
            self._check_call = None
            self.stored = bool(value)
            self._show_status()

        def failed(_exc: BaseException) -> None:
            self._check_call = None

        kind = self.kind
        self._check_call = BackgroundCall(self, lambda: notify.has_password(kind), answered, failed).start()

    def save(self, *, allow_file: bool = False) -> None:
        value = self.typed
        if not value or self.call is not None:
            return
        kind = self.kind
        allowed = allow_file or allowed_by_config(self.app)

        def store() -> None:
            with secrets.allow_file_storage(allowed):
                notify.set_password(kind, value)

        self.call = BackgroundCall(self, store, lambda _r: self.saved(value), self.failed).start()
        self.save_button.state(["disabled"])
        self.on_change()

    def saved(self, value: str) -> None:
        """The keyring holds ``value`` now (saved here or by the test): the field empties."""
        self.call = None
        self.error = ""
        self.stored = True
        if self.typed == value:
            self.var.set("")
        self.save_button.state(["!disabled"])
        self._show_status()
        self.on_change()

    def failed(self, exc: BaseException) -> None:
        self.call = None
        if isinstance(exc, secrets.KeyringUnavailable) and self.app is not None:
            if ask_to_store_in_file(self.app.dialogs, exc):
                self.save(allow_file=True)
                return
            self.error = not_stored(exc)
        elif isinstance(exc, UserError):
            self.error = str(exc)
        else:
            logger.warning("could not store the %s secret: %s", self.kind, type(exc).__name__)
            self.error = _("No se pudo guardar en esta computadora: {error}").format(error=type(exc).__name__)
        self.save_button.state(["!disabled"])
        self.on_change()

    def _typed(self, *_args: object) -> None:
        self.error = ""
        self.on_change()

    def _on_return(self, _event: tkinter.Event) -> str | None:
        if self.typed:
            self.save()
            return "break"
        return None  # nothing typed: Enter is Next, as everywhere

    def _show_status(self) -> None:
        if self.stored:
            self.status.configure(text="\u2713 " + self.saved_text, bootstyle="success")
        elif self.stored is False:
            self.status.configure(text=self.missing_text, bootstyle="secondary")

    def destroy(self) -> None:
        for call in (self.call, self._check_call):
            if call is not None:
                call.cancel()
        self.call = self._check_call = None
        super().destroy()


class NotifyStep(Step):
    section = "notify"
    short_title = _("Avisos (opcional)")
    heading = _("¿Avisarte si algo falla?")
    intro = _(
        "Es opcional. Respaldos puede avisarte por correo o por Telegram cuando un respaldo falla o pasan "
        "días sin respaldo, aunque no estés en el negocio. Si no lo necesitas, pulsa «Guardar y terminar»."
    )

    def build(self) -> None:
        self._events_loaded: list[str] = []
        self._test_call: BackgroundCall | None = None
        self.result_labels: list[WrapLabel] = []
        box = self.content

        events = ttk.Frame(box)
        events.grid(row=0, column=0, sticky="ew")
        ttk.Label(events, text=_("Avisar:"), font=BOLD_FONT).grid(
            row=0, column=0, rowspan=2, sticky="nw", padx=(0, 12), pady=2
        )
        self.event_vars: dict[str, ttk.BooleanVar] = {}
        self.event_checks: dict[str, ttk.Checkbutton] = {}
        for i, event in enumerate(NOTIFY_EVENTS):
            var = ttk.BooleanVar(value=False)
            check = ttk.Checkbutton(events, text=event_text(event), variable=var, command=self.changed)
            check.grid(row=i // 2, column=1 + i % 2, sticky="w", pady=2, padx=(0, 18))
            self.event_vars[event] = var
            self.event_checks[event] = check
        self.events_problem = ProblemLabel(box)
        self.events_problem.grid(row=1, column=0, sticky="ew")
        self.problem_labels["notify.on"] = self.events_problem

        # Each channel is a section that opens on demand (or by itself when it is set up or has a problem).
        self.sections: dict[str, tuple[ttk.Button, ttk.Frame, str]] = {}
        self.email_box = self._section("email", _("Por correo electrónico"), row=2)
        self._build_email(self.email_box)
        self.telegram_box = self._section("telegram", _("Por Telegram"), row=4)
        self._build_telegram(self.telegram_box)
        self.ping_box = self._section(
            "ping", _("Vigilancia de la computadora (Healthchecks, Uptime Kuma)"), row=6
        )
        self._build_ping(self.ping_box)

        test_row = ttk.Frame(box, padding=(0, 14, 0, 0))
        test_row.grid(row=8, column=0, sticky="ew")
        test_row.columnconfigure(1, weight=1)
        self.test_button = ttk.Button(
            test_row, text=_("Enviar prueba"), bootstyle="primary-outline", command=self.send_test
        )
        self.test_button.grid(row=0, column=0, sticky="w")
        self.test_status = ttk.Label(test_row, text="", bootstyle="secondary")
        self.test_status.grid(row=0, column=1, sticky="w", padx=(10, 0))
        self.results = ttk.Frame(box)
        self.results.grid(row=9, column=0, sticky="ew", pady=(4, 0))
        self.results.columnconfigure(0, weight=1)

        for var in (
            self.email_var,
            self.host_var,
            self.port_var,
            self.user_var,
            self.from_var,
            self.chat_var,
            self.ping_var,
        ):
            var.trace_add("write", self.changed)

    def _section(self, name: str, title: str, *, row: int) -> ttk.Frame:
        toggle = ttk.Button(
            self.content, text="", bootstyle="primary-link", command=lambda: self.toggle(name)
        )
        toggle.grid(row=row, column=0, sticky="w", pady=(8, 0))
        frame = ttk.Frame(self.content, padding=(18, 2, 0, 4))
        frame.columnconfigure(1, weight=1)
        self.sections[name] = (toggle, frame, title)
        self._show_section(name, False)
        return frame

    def _field(
        self, parent: ttk.Frame, row: int, label: str, widget: tkinter.Widget, keys: list[str], hint: str = ""
    ) -> ProblemLabel:
        """A label and its widget on ``row``, an optional hint under them, then the line for the problems of
        the config keys ``keys``."""
        ttk.Label(parent, text=label).grid(row=row, column=0, sticky="nw", padx=(0, 10), pady=(6, 0))
        widget.grid(row=row, column=1, sticky="ew", pady=(3, 0))
        if hint:
            WrapLabel(parent, text=hint, bootstyle="secondary").grid(row=row + 1, column=1, sticky="ew")
        problem = ProblemLabel(parent)
        problem.grid(row=row + (2 if hint else 1), column=1, sticky="ew")
        for key in keys:
            self.problem_labels[key] = problem
        return problem

    def _build_email(self, box: ttk.Frame) -> None:
        self.email_var = ttk.StringVar()
        self.email_entry = ttk.Entry(box, textvariable=self.email_var)
        self.email_problem = self._field(
            box,
            0,
            _("Enviar a:"),
            self.email_entry,
            ["notify.email_to"],
            hint=_("Una o varias direcciones, separadas por comas."),
        )

        server = ttk.Frame(box)
        server.columnconfigure(0, weight=1)
        self.host_var = ttk.StringVar()
        self.host_entry = ttk.Entry(server, textvariable=self.host_var, width=14)
        self.host_entry.grid(row=0, column=0, sticky="ew")
        ttk.Label(server, text=_("Puerto:")).grid(row=0, column=1, padx=(10, 6))
        self.port_var = ttk.StringVar(value="587")
        self.port_entry = ttk.Entry(server, textvariable=self.port_var, width=6, justify="center")
        self.port_entry.grid(row=0, column=2)
        self.security_var = ttk.StringVar()
        self.security_box = ttk.Combobox(
            server,
            textvariable=self.security_var,
            state="readonly",
            width=16,
            values=[security_text(s) for s in SMTP_SECURITY],
        )
        self.security_box.grid(row=0, column=3, padx=(10, 0))
        self.security_box.bind("<<ComboboxSelected>>", self._security_changed)
        self.server_problem = self._field(
            box, 3, _("Servidor:"), server, ["notify.smtp_host", "notify.smtp_port", "notify.smtp_security"]
        )

        self.user_var = ttk.StringVar()
        self.user_entry = ttk.Entry(box, textvariable=self.user_var)
        self.user_problem = self._field(box, 5, _("Usuario:"), self.user_entry, ["notify.smtp_user"])
        self.from_var = ttk.StringVar()
        self.from_entry = ttk.Entry(box, textvariable=self.from_var)
        self.from_problem = self._field(box, 7, _("Remitente:"), self.from_entry, ["notify.smtp_from"])
        self.password = SecretField(
            box,
            "smtp",
            saved_text=_("Contraseña guardada en esta computadora"),
            missing_text=_("Todavía no hay una contraseña guardada."),
            on_change=self.changed,
            app=self.app,
        )
        self.password_problem = self._field(box, 9, _("Contraseña:"), self.password, ["notify.smtp_password"])

        guide_row = ttk.Frame(box)
        guide_row.grid(row=11, column=1, sticky="w", pady=(2, 0))
        self.gmail_guide_toggle = ttk.Button(
            guide_row, text="", bootstyle="primary-link", command=lambda: self.toggle_guide("gmail")
        )
        self.gmail_guide_toggle.pack(side="left")
        self.gmail_button = ttk.Button(
            guide_row, text=_("Usar los datos de Gmail"), bootstyle="secondary-link", command=self.use_gmail
        )
        self.gmail_button.pack(side="left", padx=(8, 0))
        self.gmail_guide = Notice(
            box,
            bootstyle="info",
            text=_(
                "Gmail no acepta tu contraseña normal, sino una «contraseña de aplicación»: 1. En tu cuenta "
                "de Google, en Seguridad, activa la verificación en dos pasos. 2. Abre "
                "myaccount.google.com/apppasswords, crea una contraseña llamada «Respaldos» y copia las 16 "
                "letras. 3. Aquí: servidor smtp.gmail.com, puerto 587, STARTTLS; usuario: tu dirección de "
                "Gmail; contraseña: esas 16 letras. Conviene una cuenta de Gmail solo para los avisos de la "
                "tienda."
            ),
        )

    def _build_telegram(self, box: ttk.Frame) -> None:
        self.chat_var = ttk.StringVar()
        self.chat_entry = ttk.Entry(box, textvariable=self.chat_var, width=24)
        self.chat_problem = self._field(box, 0, _("Chat:"), self.chat_entry, ["notify.telegram_chat_id"])
        self.chat_entry.grid_configure(sticky="w")
        self.token = SecretField(
            box,
            "telegram",
            saved_text=_("Token guardado en esta computadora"),
            missing_text=_("Todavía no hay un token guardado."),
            on_change=self.changed,
            app=self.app,
        )
        self.token_problem = self._field(box, 2, _("Token del bot:"), self.token, ["notify.telegram_token"])
        self.telegram_guide_toggle = ttk.Button(
            box, text="", bootstyle="primary-link", command=lambda: self.toggle_guide("telegram")
        )
        self.telegram_guide_toggle.grid(row=4, column=1, sticky="w", pady=(2, 0))
        self.telegram_guide = Notice(
            box,
            bootstyle="info",
            text=_(
                "1. En Telegram, escribe a @BotFather, envía /newbot y ponle un nombre: te da un token "
                "como 123456789:AAF…; pégalo en «Token del bot». 2. Desde el Telegram de quien recibirá los "
                "avisos, busca tu bot y escríbele «hola» (un bot no puede escribir a quien no le ha "
                "escrito). 3. Abre en el navegador api.telegram.org/bot<TOKEN>/getUpdates, con tu token, y "
                'copia en «Chat» el número del "id" que está dentro de "chat". Para un grupo, agrega el bot al '
                "grupo: su número empieza con -."
            ),
        )

    def _build_ping(self, box: ttk.Frame) -> None:
        WrapLabel(
            box,
            bootstyle="secondary",
            text=_(
                "Una dirección de Healthchecks.io o de Uptime Kuma. Respaldos la llama en cada respaldo; si "
                "deja de llamarla (la computadora está apagada, descompuesta o la robaron), ese servicio te "
                "avisa."
            ),
        ).grid(row=0, column=0, columnspan=2, sticky="ew", pady=(0, 2))
        self.ping_var = ttk.StringVar()
        self.ping_entry = ttk.Entry(box, textvariable=self.ping_var)
        self.ping_problem = self._field(box, 1, _("Dirección:"), self.ping_entry, ["notify.ping_url"])

    # -- sections and guides --------------------------------------------------------------------

    def toggle(self, name: str) -> None:
        _toggle, frame, _title = self.sections[name]
        self._show_section(name, not frame.winfo_manager())

    def _show_section(self, name: str, shown: bool) -> None:
        toggle, frame, title = self.sections[name]
        toggle.configure(text=("\u25be " if shown else "\u25b8 ") + title)
        if shown:
            frame.grid(row=int(toggle.grid_info()["row"]) + 1, column=0, sticky="ew")
        else:
            frame.grid_forget()

    def is_open(self, name: str) -> bool:
        return bool(self.sections[name][1].winfo_manager())

    def toggle_guide(self, name: str) -> None:
        guide = self.gmail_guide if name == "gmail" else self.telegram_guide
        self._show_guide(name, not guide.winfo_manager())

    def _show_guide(self, name: str, shown: bool) -> None:
        if name == "gmail":
            toggle, guide, row = self.gmail_guide_toggle, self.gmail_guide, 12
            title = _("Cómo usar Gmail (contraseña de aplicación)")
        else:
            toggle, guide, row = self.telegram_guide_toggle, self.telegram_guide, 5
            title = _("Cómo crear el bot y saber el número del chat")
        toggle.configure(text=("\u25be " if shown else "\u25b8 ") + title)
        if shown:
            guide.grid(row=row, column=0, columnspan=2, sticky="ew", pady=(4, 4))
        else:
            guide.grid_forget()

    def use_gmail(self) -> None:
        host, port, security = GMAIL
        self.host_var.set(host)
        self.port_var.set(str(port))
        self.security_var.set(security_text(security))
        self.changed()

    def _security_changed(self, _event: tkinter.Event | None = None) -> None:
        # The usual port goes with the choice, unless the user typed another one.
        security = self.security
        if security in SECURITY_PORTS and self.port_var.get().strip() in {
            str(p) for p in SECURITY_PORTS.values()
        }:
            self.port_var.set(str(SECURITY_PORTS[security]))
        self.changed()

    @property
    def security(self) -> str:
        shown = self.security_var.get()
        for value in SMTP_SECURITY:
            if security_text(value) == shown:
                return value
        return "starttls"

    # -- config ---------------------------------------------------------------------------------

    def load(self, config: Config) -> None:
        cfg = config.notify
        self._events_loaded = list(cfg.on)
        for event, var in self.event_vars.items():
            var.set(event in cfg.on)
        self.email_var.set(", ".join(cfg.email_to))
        self.host_var.set(cfg.smtp_host)
        self.port_var.set(str(cfg.smtp_port))
        self.security_var.set(
            security_text(cfg.smtp_security if cfg.smtp_security in SMTP_SECURITY else "starttls")
        )
        self.user_var.set(cfg.smtp_user)
        self.from_var.set(cfg.smtp_from)
        self.chat_var.set(cfg.telegram_chat_id)
        self.ping_var.set(cfg.ping_url)
        self._show_section("email", bool(cfg.email_to or cfg.smtp_host or cfg.smtp_user))
        self._show_section("telegram", bool(cfg.telegram_chat_id))
        self._show_section("ping", bool(cfg.ping_url))
        self._show_guide("gmail", False)
        self._show_guide("telegram", False)
        self._show_results([])

    def _port(self) -> int | str:
        text = self.port_var.get().strip()
        return int(text) if text.isdigit() else text  # the validator says what is wrong with the text

    def _events(self) -> list[str]:
        # The file's order is kept, so that an edit that changes nothing saves nothing.
        chosen = {e for e, var in self.event_vars.items() if var.get()}
        return [e for e in self._events_loaded if e in chosen] + [
            e for e in NOTIFY_EVENTS if e in chosen and e not in self._events_loaded
        ]

    def store(self, config: Config) -> None:
        config.notify = NotifyConfig(
            on=self._events(),
            email_to=[a for a in _SPLIT_RE.split(self.email_var.get()) if a],
            smtp_host=self.host_var.get().strip(),
            smtp_port=self._port(),  # type: ignore[arg-type]
            smtp_security=self.security,
            smtp_user=self.user_var.get().strip(),
            smtp_from=self.from_var.get().strip(),
            telegram_chat_id=self.chat_var.get().strip(),
            ping_url=self.ping_var.get().strip(),
        )

    def extra_problems(self, config: Config) -> list[Problem]:
        problems = []
        for key, field in (("notify.smtp_password", self.password), ("notify.telegram_token", self.token)):
            message = field.problem()
            if message:
                problems.append(Problem(key, message))
        return problems

    @property
    def busy(self) -> bool:
        return self.password.saving or self.token.saving

    def show_problems(self, problems: list[Problem]) -> None:
        # The validator speaks the file's language (smtp_port, email_to); beside the fields, their names.
        host = self.host_var.get().strip()
        plain = []
        for p in problems:
            if p.key == "notify.smtp_host" and not host:
                p = Problem(p.key, _("Escribe el servidor de correo (por ejemplo smtp.gmail.com)."))
            elif p.key == "notify.smtp_host" and host.count(":") == 1:
                p = Problem(p.key, _("Escribe el servidor sin el puerto: el puerto va aparte, en «Puerto»."))
            elif p.key == "notify.smtp_from" and not self.from_var.get().strip():
                p = Problem(p.key, _("Escribe una dirección de correo en «Usuario» o en «Remitente»."))
            plain.append(p)
        super().show_problems(plain)
        # A problem inside a closed section opens it: Next is never disabled by something out of sight.
        for name, keys in (
            ("email", ("notify.email_to", "notify.smtp", "notify.smtp_password")),
            ("telegram", ("notify.telegram",)),
            ("ping", ("notify.ping_url",)),
        ):
            if not self.is_open(name) and any(p.key.startswith(keys) for p in problems):
                self._show_section(name, True)

    # -- Enviar prueba ----------------------------------------------------------------------------

    def draft_config(self) -> Config:
        config = copy.deepcopy(self.wizard.draft)
        self.store(config)
        return config

    def send_test(self) -> None:
        """ "Enviar prueba": saves what was typed in the secret fields, then sends through every channel the
        form describes, on a worker thread (up to about 10 s)."""
        if self._test_call is not None:
            return
        config = self.draft_config()
        invalid = [p for p in validate(config) if p.key.startswith("notify.")]
        if invalid:
            self._show_results([(_("Corrige primero lo marcado en rojo."), "danger")])
            return
        cfg = config.notify
        if not (cfg.email_to or cfg.telegram_chat_id or cfg.ping_url):
            nothing = _(
                "Escribe primero a quién avisar: un correo con su servidor, un chat de Telegram o una "
                "dirección de vigilancia."
            )
            self._show_results([(nothing, "danger")])
            return
        typed = {field.kind: field.typed for field in (self.password, self.token) if field.typed}
        allowed = allowed_by_config(self.app)

        def work() -> tuple[dict[str, str], dict[str, UserError], list[notify.ChannelResult]]:
            saved, refused = {}, {}
            for kind, value in typed.items():
                try:
                    with secrets.allow_file_storage(allowed):
                        notify.set_password(kind, value)
                    saved[kind] = value
                except UserError as exc:
                    refused[kind] = exc
            return saved, refused, notify.send_test(config)

        self._test_call = BackgroundCall(self, work, self._tested, self._test_failed).start()
        self.test_button.state(["disabled"])
        self.test_status.configure(text=_("Enviando la prueba..."))
        self._show_results([])

    def _tested(self, outcome: tuple[dict[str, str], dict[str, UserError], list[notify.ChannelResult]]) -> None:
        self._test_call = None
        saved, refused, results = outcome
        for field in (self.password, self.token):
            if field.kind in saved:
                field.saved(saved[field.kind])
            elif field.kind in refused:
                field.failed(refused[field.kind])
        self.test_button.state(["!disabled"])
        self.test_status.configure(text="")
        self._show_results(
            [("\u2713 " + result_line(r), "success") if r.ok else ("\u2717 " + result_line(r), "danger")
             for r in results]
        )

    def _test_failed(self, exc: BaseException) -> None:
        self._test_call = None
        self.test_button.state(["!disabled"])
        self.test_status.configure(text="")
        text = _(
            "No se pudo enviar la prueba por un error inesperado. Los detalles se guardaron en el registro: "
            "{log}"
        ).format(log=log_location())
        self._show_results([(text, "danger")])

    def _show_results(self, lines: list[tuple[str, str]]) -> None:
        for label in self.result_labels:
            label.destroy()
        self.result_labels = []
        for i, (text, style) in enumerate(lines):
            label = WrapLabel(self.results, text=text, bootstyle=style)
            label.grid(row=i, column=0, sticky="ew")
            self.result_labels.append(label)
        if not lines:
            self.results.configure(height=1)  # a frame whose last child left keeps its size otherwise

    @property
    def results_text(self) -> str:
        return "\n".join(str(label.cget("text")) for label in self.result_labels)

    # -- showing ----------------------------------------------------------------------------------

    def on_show(self) -> None:
        for field in (self.password, self.token):
            if field.stored is None:
                field.check()
        self.event_checks["failure"].focus_set()

    def destroy(self) -> None:
        if self._test_call is not None:
            self._test_call.cancel()
            self._test_call = None
        super().destroy()


# -- the summary's line ---------------------------------------------------------------------------------


def describe_status(status: notify.NotifyStatus, now: datetime | None = None) -> str:
    """ "Correo a dueno@ejemplo.mx, Telegram · último: hoy 20:01 «Caja 1: el respaldo falló»"."""
    if not status.channels:
        return _("Ninguno. Puedes activarlos en «Modificar configuración».")
    names = [
        _("{title} a {target}").format(title=c.title, target=c.target) if c.channel == "email" else c.title
        for c in status.channels
    ]
    text = ", ".join(names)
    text = text[:1].upper() + text[1:]
    messages = [c for c in status.channels if c.channel in notify.CHANNELS]
    if messages and not status.events:
        text += "  \u00b7  " + _("no elegiste cuándo avisar")
    if status.last_sent is not None:
        text += "  \u00b7  " + _("último: {when} «{subject}»").format(
            when=format_when(status.last_sent.at, now), subject=status.last_sent.subject
        )
    elif messages:
        text += "  \u00b7  " + _("todavía no se ha enviado ninguno")
    if status.waiting:
        text += "  \u00b7  " + ngettext(
            "{n} aviso por reenviar", "{n} avisos por reenviar", status.waiting
        ).format(n=status.waiting)
    return text


class NotifyStatusLine:
    """The summary's "Avisos:" line and the problems under it, from ``notify.status`` (one small file).

    The notices go out on their own thread after a backup, so the line looks at the notices file every
    POLL_MS and reads it again (on a worker) only when it changed, the config changed, or a minute passed
    ("hoy 20:01" stays right)."""

    POLL_MS = 2000

    def __init__(self, line: WrapLabel, app: RespaldosWindow):
        self.line = line
        self.app = app
        self.status: notify.NotifyStatus | None = None
        self._seen: Any = None
        self._call: BackgroundCall | None = None
        self._after: str | None = None
        # The row under the line, as the cloud's sign-in uses the row under its own.
        info = line.grid_info()
        self.problems = ProblemLabel(line.master)
        self.problems.grid(row=int(info["row"]) + 1, column=int(info["column"]), sticky="ew")
        self.problems.grid_remove()
        line.bind("<Destroy>", self._stop, add="+")
        self.poll()

    @property
    def text(self) -> str:
        return str(self.line.cget("text"))

    @property
    def problems_text(self) -> str:
        return self.problems.text

    def poll(self) -> None:
        self._after = None
        config = self.app.config
        if config is not None:
            try:
                stat = os.stat(outbox.path())
                stamp: Any = (stat.st_mtime_ns, stat.st_size)
            except OSError:
                stamp = None
            seen = (copy.deepcopy(config.notify), stamp, datetime.now().strftime("%Y-%m-%d %H:%M"))
            if seen != self._seen and self._call is None:
                self._seen = seen
                self._read(config)
        self._after = self.line.after(self.POLL_MS, self.poll)

    def _read(self, config: Config) -> None:
        # notify.status takes the notices file's lock, which another process may hold for a moment.
        self._call = BackgroundCall(
            self.line, lambda: notify.status(config), self._show, self._failed
        ).start()

    def _show(self, status: notify.NotifyStatus) -> None:
        self._call = None
        self.status = status
        self.line.configure(
            text=describe_status(status), bootstyle="default" if status.channels else "secondary"
        )
        self.problems.show(status.problems)
        if status.problems:
            self.problems.grid()
        else:
            self.problems.grid_remove()

    def _failed(self, _exc: BaseException) -> None:
        self._call = None
        self._seen = None  # try again at the next poll

    def _stop(self, _event: tkinter.Event | None = None) -> None:
        if self._after is not None:
            try:
                self.line.after_cancel(self._after)
            except tkinter.TclError:
                pass
            self._after = None
        if self._call is not None:
            self._call.cancel()
            self._call = None
