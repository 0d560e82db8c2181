"""Modal questions and pickers, in one replaceable object.

Pages ask ``self.app.dialogs`` instead of calling Messagebox/Querybox directly, so tests can answer
with a fake and so every button label goes through our own translations.
"""

from __future__ import annotations

import tkinter

import ttkbootstrap as ttk

from wizard.i18n import _


class Dialogs:
    def __init__(self, parent: tkinter.Misc):
        self.parent = parent

    def info(self, message: str, title: str | None = None) -> None:
        ttk.Messagebox.show_info(
            message,
            title or _("Respaldos"),
            parent=self.parent,
            buttons=[_("Aceptar") + ":primary"],
            localize=False,
        )

    def warning(self, message: str, title: str | None = None) -> None:
        ttk.Messagebox.show_warning(
            message,
            title or _("Respaldos"),
            parent=self.parent,
            buttons=[_("Aceptar") + ":primary"],
            localize=False,
        )

    def error(self, message: str, title: str | None = None) -> None:
        ttk.Messagebox.show_error(
            message,
            title or _("Respaldos"),
            parent=self.parent,
            buttons=[_("Aceptar") + ":primary"],
            localize=False,
        )

    def confirm(
        self, message: str, title: str | None = None, yes: str | None = None, no: str | None = None
    ) -> bool:
        yes = yes or _("Sí")
        no = no or _("No")
        answer = ttk.Messagebox.show_question(
            message,
            title or _("Respaldos"),
            parent=self.parent,
            buttons=[no + ":secondary", yes + ":primary"],
            localize=False,
        )
        return answer == yes

    def ask_code(self, url: str, provider: str) -> str | None:
        """The code ``provider`` ("Dropbox") shows after the user approves at ``url``; None if cancelled."""
        dialog = CodeDialog(self.parent, url, provider)
        dialog.wait_window()
        return dialog.result

    def choose_directory(self, title: str, initial: str | None = None) -> str | None:
        return (
            ttk.Querybox.get_directory(self.parent, title=title, initialdir=initial or None, mustexist=False)
            or None
        )

    def choose_files(self, title: str, initial: str | None = None) -> list[str]:
        chosen = ttk.Querybox.get_open_filenames(self.parent, title=title, initialdir=initial or None)
        return list(chosen or [])


class CodeDialog(ttk.Toplevel):
    """Asks for the sign-in code when no browser could be opened: the address to open (selectable, with
    "Copiar"), a field for the code, Aceptar / Cancelar. ``result`` is the code, or None."""

    def __init__(self, parent: tkinter.Misc, url: str, provider: str):
        super().__init__(
            title=_("Iniciar sesión con {provider}").format(provider=provider),
            master=parent,
            transient=parent.winfo_toplevel(),
            resizable=(True, False),
        )
        self.result: str | None = None
        box = ttk.Frame(self, padding=18)
        box.pack(fill="both", expand=True)
        box.columnconfigure(0, weight=1)
        ttk.Label(
            box,
            text=_(
                "No se pudo abrir el navegador. Abre esta dirección en un navegador (en esta u otra "
                "computadora), autoriza a Respaldos y pega aquí el código que aparece:"
            ),
            wraplength=520,
            justify="left",
        ).grid(row=0, column=0, columnspan=2, sticky="w")
        self.url_var = ttk.StringVar(value=url)
        self.url_entry = ttk.Entry(box, textvariable=self.url_var, state="readonly", width=60)
        self.url_entry.grid(row=1, column=0, sticky="ew", pady=(10, 0))
        ttk.Button(box, text=_("Copiar"), bootstyle="secondary-outline", command=self.copy_url).grid(
            row=1, column=1, padx=(8, 0), pady=(10, 0)
        )
        ttk.Label(box, text=_("Código:")).grid(row=2, column=0, sticky="w", pady=(14, 2))
        self.code_var = ttk.StringVar()
        self.code_entry = ttk.Entry(box, textvariable=self.code_var, width=50)
        self.code_entry.grid(row=3, column=0, columnspan=2, sticky="ew")
        buttons = ttk.Frame(box, padding=(0, 16, 0, 0))
        buttons.grid(row=4, column=0, columnspan=2, sticky="e")
        ttk.Button(buttons, text=_("Cancelar"), bootstyle="secondary", command=self.cancel).pack(side="left")
        self.ok_button = ttk.Button(buttons, text=_("Aceptar"), bootstyle="primary", command=self.accept)
        self.ok_button.pack(side="left", padx=(8, 0))
        self.bind("<Return>", lambda _e: self.accept())
        self.bind("<KP_Enter>", lambda _e: self.accept())
        self.bind("<Escape>", lambda _e: self.cancel())
        self.protocol("WM_DELETE_WINDOW", self.cancel)
        self.code_entry.focus_set()
        self.after_idle(self._grab)

    def _grab(self) -> None:
        try:
            self.grab_set()
        except tkinter.TclError:
            pass  # not viewable yet: the dialog still works

    def copy_url(self) -> None:
        self.clipboard_clear()
        self.clipboard_append(self.url_var.get())

    def accept(self) -> None:
        code = self.code_var.get().strip()
        if not code:
            self.bell()
            return
        self.result = code
        self.destroy()

    def cancel(self) -> None:
        self.result = None
        self.destroy()
