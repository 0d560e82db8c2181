"""Small widgets shared by the pages: wrapping labels, the problem line beside a field, fonts, styles."""

from __future__ import annotations

import gc
import tkinter
from tkinter import font as tkfont

import ttkbootstrap as ttk

TITLE_FONT = "RespaldosTitle"
HEADING_FONT = "RespaldosHeading"
BIG_FONT = "RespaldosBig"
BOLD_FONT = "RespaldosBold"
SMALL_FONT = "RespaldosSmall"

BIG_BUTTON_STYLE = "Big.success.TButton"
PROBLEM_PREFIX = "\u26a0 "  # ⚠


def setup_fonts_and_styles(root: tkinter.Misc) -> None:
    """Named fonts derived from the system default (so they follow the OS size and scaling)."""
    base = tkfont.nametofont("TkDefaultFont", root=root)
    family = base.actual("family")
    size = abs(int(base.actual("size"))) or 10
    specs = {
        TITLE_FONT: {"size": size + 7, "weight": "bold"},
        HEADING_FONT: {"size": size + 2, "weight": "bold"},
        BIG_FONT: {"size": size + 4, "weight": "bold"},
        BOLD_FONT: {"size": size, "weight": "bold"},
        SMALL_FONT: {"size": max(size - 1, 8)},
    }
    # tkinter deletes a named font when its Font object is garbage collected: keep them on the root.
    fonts = getattr(root, "_respaldos_fonts", {})
    for name, spec in specs.items():
        if name in fonts:
            fonts[name].configure(family=family, **spec)
        else:
            fonts[name] = tkfont.Font(root=root, name=name, family=family, **spec)
    root._respaldos_fonts = fonts  # type: ignore[attr-defined]
    # The big "Respaldar ahora" button: the success button style with a larger font and padding. Creating a
    # success button first makes ttkbootstrap build the parent style the derived name falls back to.
    probe = ttk.Button(root, bootstyle="success")
    probe.destroy()
    style = ttk.Style.get_instance()
    style.configure(BIG_BUTTON_STYLE, font=BIG_FONT, padding=(28, 14))


class WrapLabel(ttk.Label):
    """A label whose text wraps to the width it is given (instead of a fixed wraplength)."""

    def __init__(self, master: tkinter.Misc, **kwargs):
        kwargs.setdefault("justify", "left")
        kwargs.setdefault("anchor", "w")
        super().__init__(master, **kwargs)
        self.bind("<Configure>", self._rewrap, add="+")
        self.bind("<Map>", self._rewrap, add="+")

    def _rewrap(self, _event: tkinter.Event | None = None) -> None:
        # A hidden label (a wizard step not shown) has no real width yet; wrapping to its own requested
        # width would feed back into that width and never settle.
        if not self.winfo_viewable():
            return
        # The text area is the widget's width less its horizontal padding.
        try:
            pads = [int(float(str(p))) for p in self.tk.splitlist(self.cget("padding"))]
        except (tkinter.TclError, ValueError):
            pads = []
        left = pads[0] if pads else 0
        right = pads[2] if len(pads) > 2 else left
        width = max(self.winfo_width() - left - right - 4, 80)
        if str(self.cget("wraplength")) != str(width):
            self.configure(wraplength=width)


class ProblemLabel(WrapLabel):
    """The reason a field is not valid yet, shown beside or under it in red; empty when all is well."""

    def __init__(self, master: tkinter.Misc, **kwargs):
        kwargs.setdefault("bootstyle", "danger")
        super().__init__(master, **kwargs)

    def show(self, messages: list[str]) -> None:
        text = "\n".join(PROBLEM_PREFIX + m for m in messages)
        self.configure(text=text)

    @property
    def text(self) -> str:
        return str(self.cget("text"))


class Notice(ttk.Frame):
    """A boxed note with a coloured bar on the left: info, warning, success or danger."""

    def __init__(self, master: tkinter.Misc, text: str = "", bootstyle: str = "info", **kwargs):
        super().__init__(master, **kwargs)
        self.bar = ttk.Frame(self, bootstyle=f"@{bootstyle}", width=5)
        self.bar.pack(side="left", fill="y")
        self.label = WrapLabel(self, text=text, padding=(10, 6))
        self.label.pack(side="left", fill="both", expand=True)
        self._color = bootstyle

    def set(self, text: str, bootstyle: str | None = None) -> None:
        self.label.configure(text=text)
        if bootstyle and bootstyle != self._color:
            self.bar.configure(bootstyle=f"@{bootstyle}")
            self._color = bootstyle

    @property
    def text(self) -> str:
        return str(self.label.cget("text"))


def grab_when_viewable(dialog: tkinter.Toplevel, *, focus: bool = False) -> None:
    """Make ``dialog`` modal (and take the focus); called after idle, once the dialog can be viewable."""
    try:
        dialog.grab_set()
        if focus:
            dialog.focus_set()
    except tkinter.TclError:
        pass  # not viewable yet, or another grab: the dialog still works


def collect_garbage_soon(root: tkinter.Misc) -> None:
    """Run the garbage collector on the Tk thread once idle. A closed dialog is left in reference cycles with
    its Tk variables; freed by a collection that a worker thread happens to trigger, they would call Tk from
    that thread, which Tk does not allow."""
    try:
        root.after_idle(gc.collect)
    except tkinter.TclError:
        pass  # the window is gone: nothing left to free on its thread


def set_enabled(widget: tkinter.Misc, enabled: bool) -> None:
    """Enable or disable a ttk widget (and ttk children of a frame)."""
    try:
        widget.state(["!disabled"] if enabled else ["disabled"])  # type: ignore[attr-defined]
    except (AttributeError, tkinter.TclError):
        pass
    for child in widget.winfo_children():
        set_enabled(child, enabled)


class FitScrolledFrame(ttk.ScrolledFrame):
    """A ScrolledFrame whose scrollbar shows only when the content is taller than the space it has
    (large text scaling on a small screen), so a step never hides its last lines."""

    def __init__(self, master: tkinter.Misc, **kwargs):
        kwargs.setdefault("auto_hide", False)
        kwargs.setdefault("padding", 0)
        super().__init__(master, **kwargs)
        self.bind("<Configure>", self._fit, add="+")
        self._canvas.bind("<Configure>", self._fit, add="+")
        self.hide_scrollbars()

    def _fit(self, _event: tkinter.Event | None = None) -> None:
        if not self._canvas.winfo_viewable():
            return
        fits = self.winfo_reqheight() <= self._canvas.winfo_height()
        if fits:
            self.hide_scrollbars()
            self.yview_moveto(0)
        else:
            self.show_scrollbars()

    @property
    def scrollbar_shown(self) -> bool:
        return bool(self.vbar.winfo_manager())
