"""Modal questions and pickers, in one replaceable object.

Pages ask ``self.app.dialogs`` instead of calling Messagebox/Querybox directly, so tests can answer
with a fake and so every button label goes through our own translations.
"""

from __future__ import annotations

import tkinter

import ttkbootstrap as ttk

from wizard.i18n import _
from wizard.ui.widgets import collect_garbage_soon, grab_when_viewable


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

    def ask_code(self, url: str, provider: str, hint: str, prompt: str) -> str | None:
        """What ``provider`` ("Dropbox", "Google Drive") gives after the user approves at ``url`` (a code, or
        the address the browser went to), explained by the provider's ``hint``; None if cancelled."""
        dialog = CodeDialog(self.parent, url, provider, hint, prompt)
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
    """Asks for what the provider gives after approval when no browser could be opened: the provider's own
    explanation (``hint``: Dropbox shows a code, Google sends the browser to an address to copy), the address
    to open (selectable, with "Copiar"), a field labelled ``prompt``, Aceptar / Cancelar. ``result`` is the
    pasted text, trimmed, or None."""

    def __init__(self, parent: tkinter.Misc, url: str, provider: str, hint: str, prompt: str):
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
        self.hint_label = ttk.Label(
            box,
            text=_("No se pudo abrir el navegador.") + " " + hint.strip(),
            wraplength=520,
            justify="left",
        )
        self.hint_label.grid(row=0, column=0, columnspan=2, sticky="w")
        self.url_var = ttk.StringVar(value=url)
        self.url_entry = ttk.Entry(box, textvariable=self.url_var, state="readonly", width=60)
        self.url_entry.grid(row=1, column=0, sticky="ew", pady=(10, 0))
        ttk.Button(box, text=_("Copiar"), bootstyle="secondary-outline", command=self.copy_url).grid(
            row=1, column=1, padx=(8, 0), pady=(10, 0)
        )
        self.prompt_label = ttk.Label(box, text=prompt.strip())
        self.prompt_label.grid(row=2, column=0, sticky="w", pady=(14, 2))
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
        self.after_idle(grab_when_viewable, self)

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

    def destroy(self) -> None:
        root = self._root()
        super().destroy()
        collect_garbage_soon(root)
