"""How large the restore dialog is: its size at 100 % text, and how much larger the user's text is."""

from __future__ import annotations

import tkinter

SIZE = (820, 640)


def text_scale(widget: tkinter.Misc) -> float:
    """How much larger than 100 % the text is (Tk's scaling is 1.33 pixels per point at 100 %)."""
    try:
        return max(float(widget.tk.call("tk", "scaling")) / 1.3333, 1.0)
    except (tkinter.TclError, ValueError):
        return 1.0
