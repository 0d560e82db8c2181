"""Step 5, Cuántos conservar: the retention rules, a recommended preset, and the disk space they take."""

from __future__ import annotations

import ttkbootstrap as ttk

from wizard.core.config import Config, RetentionConfig
from wizard.core.units import format_size
from wizard.i18n import _
from wizard.ui.pages.base import Step
from wizard.ui.password_panel import EncryptionPanel
from wizard.ui.text import describe_retention, estimate_kept
from wizard.ui.widgets import BOLD_FONT, Notice, ProblemLabel, WrapLabel

RECOMMENDED = RetentionConfig()  # 10 last, 7 daily, 4 weekly, 12 monthly
# A POS database compresses to about 45 % of its size; photos and PDFs hardly at all.
COMPRESSED_SHARE = 0.55
FIELDS = ("keep_last", "keep_daily", "keep_weekly", "keep_monthly")


class RetentionStep(Step):
    section = "retention"
    also_sections = ("encryption",)  # the password option (wizard.ui.password_panel)
    short_title = _("Cuántos conservar")
    heading = _("¿Cuántos respaldos conservar?")
    intro = _(
        "Guardar varios respaldos de distintas fechas te permite volver a un día anterior si un "
        "error se descubre tarde. Los más antiguos se borran solos para no llenar el disco."
    )

    def build(self) -> None:
        box = self.content
        self.preset_var = ttk.StringVar(value="recommended")
        self.recommended_radio = ttk.Radiobutton(
            box,
            text=_("Recomendado: los últimos 10, 7 días, 4 semanas y 12 meses"),
            value="recommended",
            variable=self.preset_var,
            command=self._preset_changed,
        )
        self.recommended_radio.grid(row=0, column=0, sticky="w", pady=2)
        self.custom_radio = ttk.Radiobutton(
            box,
            text=_("Personalizado:"),
            value="custom",
            variable=self.preset_var,
            command=self._preset_changed,
        )
        self.custom_radio.grid(row=1, column=0, sticky="w", pady=2)

        grid = ttk.Frame(box, padding=(24, 6, 0, 0))
        grid.grid(row=2, column=0, sticky="w")
        labels = {
            "keep_last": _("Últimos respaldos:"),
            "keep_daily": _("Días (uno por día):"),
            "keep_weekly": _("Semanas (uno por semana):"),
            "keep_monthly": _("Meses (uno por mes):"),
        }
        limits = {"keep_last": 100, "keep_daily": 366, "keep_weekly": 104, "keep_monthly": 120}
        self.vars: dict[str, ttk.StringVar] = {}
        self.spins: dict[str, ttk.Spinbox] = {}
        # Two by two, so the page stays short enough for large text on a small screen.
        self.numbers_problem = ProblemLabel(box)
        for i, key in enumerate(FIELDS):
            row, col = divmod(i, 2)
            ttk.Label(grid, text=labels[key]).grid(
                row=row, column=2 * col, sticky="w", pady=3, padx=(0 if col == 0 else 28, 10)
            )
            var = ttk.StringVar(value=str(getattr(RECOMMENDED, key)))
            spin = ttk.Spinbox(grid, from_=0, to=limits[key], textvariable=var, width=6, justify="center")
            spin.grid(row=row, column=2 * col + 1, sticky="w", pady=3)
            self.problem_labels[f"retention.{key}"] = self.numbers_problem
            var.trace_add("write", self.changed)
            self.vars[key] = var
            self.spins[key] = spin
        WrapLabel(box, text=_("0 desactiva la regla."), bootstyle="secondary", padding=(24, 0, 0, 0)).grid(
            row=3, column=0, sticky="ew"
        )
        self.numbers_problem.grid(row=4, column=0, sticky="ew", padx=(24, 0))

        self.sentence = WrapLabel(box, text="", font=BOLD_FONT)
        self.sentence.grid(row=5, column=0, sticky="ew", pady=(12, 6))
        self.estimate = Notice(box, bootstyle="info")
        self.estimate.grid(row=6, column=0, sticky="ew", pady=(4, 0))
        self.encryption = EncryptionPanel(box, self)
        self.encryption.grid(row=7, column=0, sticky="ew", pady=(16, 0))
        self.problem_labels["encryption"] = self.encryption.problem

    # -- config ---------------------------------------------------------------------------------

    def load(self, config: Config) -> None:
        policy = config.retention
        for key in FIELDS:
            self.vars[key].set(str(getattr(policy, key)))
        self.preset_var.set("recommended" if policy == RECOMMENDED else "custom")
        self._preset_changed()
        self.encryption.load(config)

    def _value(self, key: str) -> int | str:
        text = self.vars[key].get().strip()
        try:
            return int(text)
        except ValueError:
            return text  # the validator says what is wrong with it

    def store(self, config: Config) -> None:
        if self.preset_var.get() == "recommended":
            config.retention = RetentionConfig()
        else:
            config.retention = RetentionConfig(**{key: self._value(key) for key in FIELDS})
        self.encryption.store(config)

    def extra_problems(self, config: Config) -> list:
        return self.encryption.problems(config)

    def show_problems(self, problems) -> None:
        super().show_problems(problems)
        if any(p.key.startswith("retention") for p in problems):
            self.sentence.configure(text="")
            self.estimate.grid_remove()
            return
        config = Config(schedule=self.wizard.draft.schedule)
        self.store(config)
        self.sentence.configure(text=describe_retention(config.retention))
        self.estimate.set(self.estimate_text(config))
        self.estimate.grid()

    def estimate_text(self, config: Config) -> str:
        kept = estimate_kept(config.schedule, config.retention)
        size = self.wizard.source_size
        if kept is None:
            return _(
                "Sin límite: los respaldos se acumulan hasta llenar el disco. Bórralos a mano de vez "
                "en cuando."
            )
        if size is None or not size.total_bytes:
            return _("Con el tiempo se conservarán unos {n} respaldos.").format(n=kept)
        each = size.total_bytes * COMPRESSED_SHARE
        text = _(
            "Con el tiempo se conservarán unos {n} respaldos de unos {each} cada uno: unos {total} en total."
        ).format(n=kept, each=format_size(each), total=format_size(each * kept))
        info = self.wizard.folder_info()
        if info is not None and info.free_bytes is not None:
            text += " " + _("Hay {free} libres en la carpeta elegida.").format(
                free=format_size(info.free_bytes)
            )
            if info.free_bytes < each * kept:
                text += " " + _("No alcanza: conserva menos respaldos o usa un disco más grande.")
        return text

    def _preset_changed(self) -> None:
        custom = self.preset_var.get() == "custom"
        if not custom:
            for key in FIELDS:
                self.vars[key].set(str(getattr(RECOMMENDED, key)))
        for spin in self.spins.values():
            spin.state(["!disabled"] if custom else ["disabled"])
        self.changed()

    def on_show(self) -> None:
        self.changed()
        self.recommended_radio.focus_set()

    @property
    def sentence_text(self) -> str:
        return str(self.sentence.cget("text"))
