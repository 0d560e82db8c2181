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

    def choose_directory(self, title: str, initial: str | None = None) -> str | None:
        return (
            ttk.Querybox.get_directory(self.parent, title=title, initialdir=initial or None, mustexist=False)
            or None
        )

    def choose_files(self, title: str, initial: str | None = None) -> list[str]:
        chosen = ttk.Querybox.get_open_filenames(self.parent, title=title, initialdir=initial or None)
        return list(chosen or [])
