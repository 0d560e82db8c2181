"""The windows of the backups' password (issue 19): choosing one, the recovery sheet, asking for one.

Each is a Toplevel that calls ``on_done`` when it closes instead of blocking the caller, so the wizard keeps
drawing and a test can type into it. Passwords never reach the log; the recovery sheet is written 0600.
"""

from __future__ import annotations

import logging
import tkinter
import webbrowser
from collections.abc import Callable
from pathlib import Path
from tkinter import filedialog
from tkinter import font as tkfont

import ttkbootstrap as ttk

from wizard.core import oserrors, secrets
from wizard.core.encryption import password as passwords
from wizard.core.encryption import sheet
from wizard.core.errors import UserError
from wizard.i18n import _
from wizard.ui import keyring_consent
from wizard.ui.widgets import BOLD_FONT, ProblemLabel, WrapLabel, collect_garbage_soon, grab_when_viewable

logger = logging.getLogger(__name__)

HIDDEN = "•"
STRENGTH_WORDS = (_("muy débil"), _("débil"), _("regular"), _("buena"), _("muy buena"))
STRENGTH_STYLES = ("danger", "danger", "warning", "success", "success")


class _Modal(ttk.Toplevel):
    """A dialog over the window: Escape and the close button cancel; it takes the input while open."""

    def __init__(self, parent: tkinter.Misc, title: str):
        super().__init__(title=title, master=parent, transient=parent.winfo_toplevel(), resizable=(True, False))
        self.box = ttk.Frame(self, padding=18)
        self.box.pack(fill="both", expand=True)
        self.box.columnconfigure(1, weight=1)
        # Labels start at about 60 characters wide (then follow the window): a long sentence alone would
        # otherwise ask for the whole screen's width.
        self.wrap = tkfont.nametofont("TkDefaultFont", root=self).measure("n") * 62
        self.bind("<Escape>", lambda _e: self.cancel())
        self.protocol("WM_DELETE_WINDOW", self.cancel)
        self.after_idle(grab_when_viewable, self)

    def cancel(self) -> None:
        raise NotImplementedError

    def destroy(self) -> None:
        root = self._root()
        super().destroy()
        # Free the Tk variables now, on the Tk thread: a caller may keep this object, and a garbage collection
        # that ran later on a worker thread would delete them there (tkinter refuses that).
        for name in [n for n, v in vars(self).items() if isinstance(v, tkinter.Variable)]:
            delattr(self, name)
        collect_garbage_soon(root)


def _hidden_entry(parent: tkinter.Misc, var: tkinter.StringVar) -> ttk.Entry:
    return ttk.Entry(parent, textvariable=var, show=HIDDEN, width=36)


class NewPasswordDialog(_Modal):
    """Two hidden fields, "Mostrar", a strength bar with its hint; "Guardar contraseña" stores it in the
    keyring (asking before the user-only file when there is no keyring) and calls ``on_done(password)``;
    Cancelar calls ``on_done(None)``."""

    def __init__(self, parent: tkinter.Misc, config, dialogs, on_done: Callable[[str | None], None]):
        super().__init__(parent, _("Contraseña de los respaldos"))
        self.config = config
        self.dialogs = dialogs
        self.on_done = on_done
        box = self.box
        WrapLabel(box, wraplength=self.wrap, text=_(
            "Con esta contraseña se cifran los respaldos: nadie puede abrirlos sin ella, ni siquiera Respaldos. "
            "Si la pierdes, pierdes los respaldos. Usa al menos {n} caracteres; una frase de varias palabras es "
            "fácil de recordar y difícil de adivinar.").format(n=passwords.MIN_LENGTH)).grid(
            row=0, column=0, columnspan=2, sticky="ew", pady=(0, 12))
        self.first_var = tkinter.StringVar(master=self)
        self.second_var = tkinter.StringVar(master=self)
        ttk.Label(box, text=_("Contraseña:")).grid(row=1, column=0, sticky="w", padx=(0, 10), pady=3)
        self.first_entry = _hidden_entry(box, self.first_var)
        self.first_entry.grid(row=1, column=1, sticky="ew", pady=3)
        ttk.Label(box, text=_("Repítela:")).grid(row=2, column=0, sticky="w", padx=(0, 10), pady=3)
        self.second_entry = _hidden_entry(box, self.second_var)
        self.second_entry.grid(row=2, column=1, sticky="ew", pady=3)
        self.show_var = tkinter.BooleanVar(master=self, value=False)
        self.show_check = ttk.Checkbutton(box, text=_("Mostrar la contraseña"), variable=self.show_var,
                                          command=self._show_changed)
        self.show_check.grid(row=3, column=1, sticky="w", pady=(2, 8))
        self.meter = ttk.Progressbar(box, maximum=4, value=0, bootstyle="danger")
        self.meter.grid(row=4, column=1, sticky="ew")
        self.strength_label = WrapLabel(box, text="", wraplength=self.wrap)
        self.strength_label.grid(row=5, column=0, columnspan=2, sticky="ew", pady=(4, 0))
        self.problem = ProblemLabel(box, wraplength=self.wrap)
        self.problem.grid(row=6, column=0, columnspan=2, sticky="ew", pady=(6, 0))
        buttons = ttk.Frame(box, padding=(0, 14, 0, 0))
        buttons.grid(row=7, column=0, columnspan=2, sticky="e")
        ttk.Button(buttons, text=_("Cancelar"), bootstyle="secondary", command=self.cancel).pack(side="left")
        self.save_button = ttk.Button(buttons, text=_("Guardar contraseña"), bootstyle="primary",
                                      command=self.save)
        self.save_button.pack(side="left", padx=(8, 0))
        self.first_var.trace_add("write", self._changed)
        self.second_var.trace_add("write", self._changed)
        self.bind("<Return>", lambda _e: self.save())
        self.bind("<KP_Enter>", lambda _e: self.save())
        self._changed()
        self.first_entry.focus_set()

    @property
    def problems(self) -> list[str]:
        return passwords.check_new_password(self.first_var.get(), self.second_var.get())

    @property
    def strength_text(self) -> str:
        return str(self.strength_label.cget("text"))

    def _show_changed(self) -> None:
        show = "" if self.show_var.get() else HIDDEN
        self.first_entry.configure(show=show)
        self.second_entry.configure(show=show)

    def _changed(self, *_args: object) -> None:
        value = self.first_var.get()
        score, hint = passwords.strength(value)
        self.meter.configure(value=score if value else 0, bootstyle=STRENGTH_STYLES[score])
        self.strength_label.configure(text=_("Seguridad: {word}. {hint}").format(word=STRENGTH_WORDS[score],
                                                                                 hint=hint) if value else hint)
        # A mismatch is said once the second field is as long as the first, not at every key.
        shown = [p for p in self.problems if self.second_var.get() and len(self.second_var.get()) >= len(value)]
        self.problem.show(shown)
        self.save_button.state(["disabled"] if self.problems else ["!disabled"])

    def save(self) -> None:
        if self.problems:
            self.problem.show(self.problems)
            self.bell()
            return
        value = self.first_var.get()
        try:
            try:
                passwords.set_password(self.config, value)
            except secrets.KeyringUnavailable as refused:
                if not keyring_consent.ask_to_store_in_file(self.dialogs, refused):
                    self.problem.show([keyring_consent.not_stored(refused)])
                    return
                with secrets.allow_file_storage():
                    passwords.set_password(self.config, value)
        except UserError as exc:
            self.problem.show([str(exc)])
            return
        self.destroy()
        self.on_done(value)

    def cancel(self) -> None:
        self.destroy()
        self.on_done(None)


class RecoverySheetDialog(_Modal):
    """The sheet is written to the data folder when this opens; "Imprimir" opens it in the browser (which
    prints it), "Guardar como…" writes a copy elsewhere. Continuar stays off until the user ticks that they
    saved or printed it: ``on_done(True)``; closing without it: ``on_done(False)``."""

    def __init__(self, parent: tkinter.Misc, config, password: str, on_done: Callable[[bool], None]):
        super().__init__(parent, _("Hoja de recuperación"))
        self.config = config
        self.password = password
        self.on_done = on_done
        self.saved_copies: list[Path] = []
        box = self.box
        ttk.Label(box, text=_("Imprime o guarda la hoja de recuperación"), font=BOLD_FONT).grid(
            row=0, column=0, columnspan=2, sticky="w")
        WrapLabel(box, wraplength=self.wrap, text=_(
            "Tiene la contraseña, el nombre de este equipo, dónde están los respaldos y cómo abrirlos con 7-Zip "
            "en cualquier computadora. Guárdala fuera de esta computadora (impresa, o en una memoria que no sea "
            "la de los respaldos). Si pierdes la contraseña, pierdes los respaldos: nadie puede recuperarlos.")).grid(
            row=1, column=0, columnspan=2, sticky="ew", pady=(6, 10))
        self.where_label = WrapLabel(box, text="", bootstyle="secondary", wraplength=self.wrap)
        self.where_label.grid(row=2, column=0, columnspan=2, sticky="ew")
        actions = ttk.Frame(box, padding=(0, 10, 0, 6))
        actions.grid(row=3, column=0, columnspan=2, sticky="w")
        self.print_button = ttk.Button(actions, text=_("Imprimir…"), bootstyle="primary-outline",
                                       command=self.print_sheet)
        self.print_button.pack(side="left")
        self.save_as_button = ttk.Button(actions, text=_("Guardar como…"), bootstyle="secondary-outline",
                                         command=self.save_as)
        self.save_as_button.pack(side="left", padx=(8, 0))
        self.problem = ProblemLabel(box, wraplength=self.wrap)
        self.problem.grid(row=4, column=0, columnspan=2, sticky="ew")
        self.kept_var = tkinter.BooleanVar(master=self, value=False)
        self.kept_check = ttk.Checkbutton(box, text=_("Guardé o imprimí la hoja de recuperación"),
                                          variable=self.kept_var, command=self._kept_changed)
        self.kept_check.grid(row=5, column=0, columnspan=2, sticky="w", pady=(8, 0))
        buttons = ttk.Frame(box, padding=(0, 14, 0, 0))
        buttons.grid(row=6, column=0, columnspan=2, sticky="e")
        self.continue_button = ttk.Button(buttons, text=_("Continuar"), bootstyle="primary", command=self.accept)
        self.continue_button.pack(side="left")
        self.path = self._write(None)
        self._kept_changed()

    def _write(self, target: Path | None) -> Path | None:
        try:
            path = sheet.write_sheet(self.config, self.password, target)
        except OSError as exc:
            where = (target or sheet.default_path()).parent
            problem = oserrors.plain_os_error(exc, where, oserrors.DOWNLOAD)
            if problem is None:
                logger.exception("recovery sheet not written to %s", where)
            self.problem.show([str(problem) if problem else _("No se pudo guardar la hoja en {path}: {error}.")
                               .format(path=where, error=exc.strerror or exc)])
            return None
        if target is None:
            self.where_label.configure(text=_("Se guardó una copia, que solo tu usuario puede abrir, en {path}.")
                                       .format(path=path))
        else:
            self.saved_copies.append(path)
            self.where_label.configure(text=_("Hoja guardada en {path}.").format(path=path))
        return path

    def print_sheet(self) -> None:
        if self.path is None:
            self.bell()
            return
        try:
            opened = webbrowser.open(self.path.as_uri())
        except webbrowser.Error:
            opened = False
        if not opened:
            self.problem.show([_("No se pudo abrir el navegador. Abre {path} e imprímelo desde ahí.").format(
                path=self.path)])

    def save_as(self) -> None:
        chosen = filedialog.asksaveasfilename(
            parent=self, title=_("Guardar la hoja de recuperación"), initialfile=sheet.SHEET_FILE_NAME,
            defaultextension=".html", filetypes=[(_("Página web"), "*.html")])
        if chosen:
            self._write(Path(chosen))

    def _kept_changed(self) -> None:
        self.continue_button.state(["!disabled"] if self.kept_var.get() else ["disabled"])

    def accept(self) -> None:
        if not self.kept_var.get():
            self.bell()
            return
        self.destroy()
        self.on_done(True)

    def cancel(self) -> None:
        self.destroy()
        self.on_done(False)


class AskPasswordDialog(_Modal):
    """Asks for the password an encrypted backup needs (a new PC after a disaster). ``on_done((password,
    keep))`` where ``keep`` is "Guardarla en este equipo", or ``on_done(None)``. ``problem`` may say why it
    is asked again (a wrong password)."""

    def __init__(self, parent: tkinter.Misc, archive_name: str, on_done: Callable[[tuple[str, bool] | None], None],
                 problem: str = ""):
        super().__init__(parent, _("Contraseña del respaldo"))
        self.on_done = on_done
        box = self.box
        self.message = WrapLabel(box, wraplength=self.wrap, text=_(
            "El respaldo {name} está protegido con contraseña y este equipo no la tiene. Escríbela: está en la "
            "hoja de recuperación.").format(name=archive_name))
        self.message.grid(
            row=0, column=0, columnspan=2, sticky="ew", pady=(0, 10))
        self.var = tkinter.StringVar(master=self)
        ttk.Label(box, text=_("Contraseña:")).grid(row=1, column=0, sticky="w", padx=(0, 10))
        self.entry = _hidden_entry(box, self.var)
        self.entry.grid(row=1, column=1, sticky="ew")
        self.show_var = tkinter.BooleanVar(master=self, value=False)
        ttk.Checkbutton(box, text=_("Mostrar la contraseña"), variable=self.show_var, command=lambda: self.entry.configure(
            show="" if self.show_var.get() else HIDDEN)).grid(row=2, column=1, sticky="w", pady=(4, 0))
        self.keep_var = tkinter.BooleanVar(master=self, value=False)
        ttk.Checkbutton(box, text=_("Guardarla en este equipo"), variable=self.keep_var).grid(
            row=3, column=1, sticky="w", pady=(4, 0))
        self.problem = ProblemLabel(box, wraplength=self.wrap)
        self.problem.grid(row=4, column=0, columnspan=2, sticky="ew", pady=(6, 0))
        self.problem.show([problem] if problem else [])
        buttons = ttk.Frame(box, padding=(0, 14, 0, 0))
        buttons.grid(row=5, column=0, columnspan=2, sticky="e")
        ttk.Button(buttons, text=_("Cancelar"), bootstyle="secondary", command=self.cancel).pack(side="left")
        self.ok_button = ttk.Button(buttons, text=_("Aceptar"), bootstyle="primary", command=self.accept)
        self.ok_button.pack(side="left", padx=(8, 0))
        self.bind("<Return>", lambda _e: self.accept())
        self.bind("<KP_Enter>", lambda _e: self.accept())
        self.entry.focus_set()

    def accept(self) -> None:
        value = self.var.get()
        if not value:
            self.bell()
            return
        keep = bool(self.keep_var.get())
        self.destroy()
        self.on_done((value, keep))

    def cancel(self) -> None:
        self.destroy()
        self.on_done(None)


def needs_password(exc: BaseException) -> bool:
    """A backup that could not be opened for want of its password: none known here, or none that fits."""
    from wizard.core.archive import WrongPassword

    return isinstance(exc, (passwords.PasswordMissing, WrongPassword))


def ask_archive_password(parent: tkinter.Misc, app, archive_name: str, exc: BaseException,
                         retry: Callable[[], None]) -> AskPasswordDialog:
    """Ask for the password ``exc`` says is missing (or wrong). The answer joins this run's passwords (and the
    keyring when "Guardarla en este equipo" was ticked), then ``retry()`` opens the backup again."""

    def done(answer: tuple[str, bool] | None) -> None:
        if answer is None:
            return
        value, keep = answer
        passwords.add_session_password(value)
        if keep:
            _keep(app, value)
        retry()

    problem = "" if isinstance(exc, passwords.PasswordMissing) else str(exc)
    return AskPasswordDialog(parent, archive_name, done, problem=problem)


def _keep(app, value: str) -> None:
    try:
        try:
            passwords.keep_password(app.config, value)
        except secrets.KeyringUnavailable as refused:
            if not keyring_consent.ask_to_store_in_file(app.dialogs, refused):
                app.dialogs.warning(keyring_consent.not_stored(refused))
                return
            with secrets.allow_file_storage():
                passwords.keep_password(app.config, value)
    except UserError as exc:
        app.dialogs.warning(str(exc))
