"""What every wizard step has: a heading, fields that read and write a Config, and problem lines.

A step never validates on its own: the wizard asks ``wizard.core.config.validate`` (the one validator)
about the draft config and hands each step the problems whose key starts with its section. A step may
add checks the file cannot express (a folder that does not exist, a drive that cannot be written).
"""

from __future__ import annotations

import re
import tkinter
from typing import TYPE_CHECKING

import ttkbootstrap as ttk

from wizard.core.config import Config, Problem
from wizard.ui.widgets import HEADING_FONT, TITLE_FONT, FitScrolledFrame, ProblemLabel, WrapLabel

if TYPE_CHECKING:
    from wizard.ui.pages.wizard import WizardPage

_INDEX_RE = re.compile(r"\[\d+\]")


def sentence(message: str) -> str:
    """Validator messages are lower-case fragments ("la lista está vacía..."); beside a field they
    read as sentences."""
    return message[:1].upper() + message[1:] if message else message


class Step(ttk.Frame):
    """One page of the wizard. Subclasses build their fields in ``build`` and set ``section``."""

    section = ""  # the config section this step edits ("source", "destination", ...)
    also_sections: tuple[str, ...] = ()  # other sections with a field on this step ("machine")
    short_title = ""  # in the step list on the left
    heading = ""  # the question at the top of the page
    intro = ""  # one or two sentences under it

    def __init__(self, wizard: WizardPage):
        super().__init__(wizard.body)
        self.wizard = wizard
        self.app = wizard.app
        self.problem_labels: dict[str, ProblemLabel] = {}
        self.columnconfigure(0, weight=1)
        self.rowconfigure(0, weight=1)
        # Scrolls only when the page does not fit (150 % text on a 1366x768 screen).
        self.scroller = FitScrolledFrame(self)
        self.scroller.grid(row=0, column=0, sticky="nsew")
        page = ttk.Frame(self.scroller, padding=(28, 20, 28, 8))
        page.pack(fill="both", expand=True)
        page.columnconfigure(0, weight=1)
        ttk.Label(page, text=self.heading, font=TITLE_FONT).grid(row=0, column=0, sticky="w")
        if self.intro:
            WrapLabel(page, text=self.intro, bootstyle="secondary").grid(
                row=1, column=0, sticky="ew", pady=(4, 12)
            )
        self.content = ttk.Frame(page)
        self.content.grid(row=2, column=0, sticky="nsew")
        self.content.columnconfigure(0, weight=1)
        self.general_problem = ProblemLabel(page)
        self.general_problem.grid(row=3, column=0, sticky="ew", pady=(6, 0))
        self.build()

    # -- to override -------------------------------------------------------------------------

    def build(self) -> None:
        raise NotImplementedError

    def load(self, config: Config) -> None:
        """Fill the fields from ``config``."""
        raise NotImplementedError

    def store(self, config: Config) -> None:
        """Write the fields into ``config`` (the wizard's draft), valid or not."""
        raise NotImplementedError

    def extra_problems(self, config: Config) -> list[Problem]:
        """Checks beyond the config file's validator (the file system, a pending sign-in)."""
        return []

    @property
    def busy(self) -> bool:
        """True while the step is still finding something out that Next depends on."""
        return False

    def on_show(self) -> None:
        """Called each time the step becomes the visible one."""

    def on_hide(self) -> None:
        """Called when the wizard leaves the step (or closes)."""

    def heading_label(self, parent: tkinter.Misc, text: str) -> ttk.Label:
        return ttk.Label(parent, text=text, font=HEADING_FONT)

    # -- problems ---------------------------------------------------------------------------

    def label_for(self, key: str) -> ProblemLabel:
        """The problem line for a key path such as ``schedule.weekdays[2]`` (longest known prefix)."""
        plain = _INDEX_RE.sub("", key)
        best = ""
        for known in self.problem_labels:
            if (plain == known or plain.startswith(known + ".")) and len(known) > len(best):
                best = known
        return self.problem_labels[best] if best else self.general_problem

    def show_problems(self, problems: list[Problem]) -> None:
        grouped: dict[int, tuple[ProblemLabel, list[str]]] = {}
        for label in [*self.problem_labels.values(), self.general_problem]:
            grouped[id(label)] = (label, [])
        for problem in problems:
            label = self.label_for(problem.key)
            message = sentence(problem.message)
            if message not in grouped[id(label)][1]:
                grouped[id(label)][1].append(message)
        for label, messages in grouped.values():
            label.show(messages)

    def changed(self, *_args: object) -> None:
        """Any field changed: the wizard re-validates and updates Next."""
        self.wizard.revalidate()
