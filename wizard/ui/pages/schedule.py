"""Step 3, Cuándo: every day or some weekdays, at a time, with the advice from the POS manual."""

from __future__ import annotations

import ttkbootstrap as ttk

from wizard.core.config import WEEKDAYS, Config, Problem, ScheduleConfig
from wizard.i18n import _
from wizard.ui.pages.base import Step
from wizard.ui.text import describe_schedule, weekday_short
from wizard.ui.widgets import HEADING_FONT, Notice, ProblemLabel


class ScheduleStep(Step):
    section = "schedule"
    short_title = _("Cuándo")
    heading = _("¿Cuándo hacer el respaldo?")
    intro = _(
        "Respaldos hace la copia solo, a la hora que elijas. También puedes respaldar en cualquier "
        "momento con el botón «Respaldar ahora» o la tecla F8."
    )

    def build(self) -> None:
        box = self.content
        self.frequency_var = ttk.StringVar(value="daily")
        freq = ttk.Frame(box)
        freq.grid(row=0, column=0, sticky="w")
        self.daily_radio = ttk.Radiobutton(
            freq,
            text=_("Todos los días"),
            value="daily",
            variable=self.frequency_var,
            command=self._frequency_changed,
        )
        self.daily_radio.grid(row=0, column=0, sticky="w", pady=2)
        self.weekly_radio = ttk.Radiobutton(
            freq,
            text=_("Solo algunos días de la semana:"),
            value="weekly",
            variable=self.frequency_var,
            command=self._frequency_changed,
        )
        self.weekly_radio.grid(row=1, column=0, sticky="w", pady=2)

        days = ttk.Frame(box, padding=(24, 2, 0, 0))
        days.grid(row=1, column=0, sticky="w")
        self.day_vars: dict[str, ttk.BooleanVar] = {}
        self.day_checks: dict[str, ttk.Checkbutton] = {}
        for i, day in enumerate(WEEKDAYS):
            var = ttk.BooleanVar(value=False)
            check = ttk.Checkbutton(
                days,
                text=weekday_short(day),
                variable=var,
                command=self.changed,
                bootstyle="primary-outline-toolbutton",
                width=5,
            )
            check.grid(row=0, column=i, padx=(0, 4))
            self.day_vars[day] = var
            self.day_checks[day] = check
        self.days_problem = ProblemLabel(box)
        self.days_problem.grid(row=2, column=0, sticky="ew", pady=(2, 0))
        self.problem_labels["schedule.weekdays"] = self.days_problem
        self.problem_labels["schedule.frequency"] = self.days_problem

        time_row = ttk.Frame(box, padding=(0, 12, 0, 0))
        time_row.grid(row=3, column=0, sticky="w")
        ttk.Label(time_row, text=_("Hora:")).grid(row=0, column=0, padx=(0, 8))
        self.hour_var = ttk.StringVar(value="20")
        self.minute_var = ttk.StringVar(value="00")
        self.hour = ttk.Spinbox(
            time_row,
            from_=0,
            to=23,
            wrap=True,
            width=4,
            format="%02.0f",
            textvariable=self.hour_var,
            justify="center",
        )
        self.hour.grid(row=0, column=1)
        ttk.Label(time_row, text=":", font=HEADING_FONT).grid(row=0, column=2, padx=4)
        self.minute = ttk.Spinbox(
            time_row,
            from_=0,
            to=55,
            increment=5,
            wrap=True,
            width=4,
            format="%02.0f",
            textvariable=self.minute_var,
            justify="center",
        )
        self.minute.grid(row=0, column=3)
        ttk.Label(time_row, text=_("(24 horas: 20:00 son las 8 de la noche)"), bootstyle="secondary").grid(
            row=0, column=4, padx=(10, 0)
        )
        self.time_problem = ProblemLabel(box)
        self.time_problem.grid(row=4, column=0, sticky="ew", pady=(2, 0))
        self.problem_labels["schedule.time"] = self.time_problem

        self.sentence = ttk.Label(box, text="", font=HEADING_FONT, bootstyle="primary")
        self.sentence.grid(row=5, column=0, sticky="w", pady=(12, 4))

        self.notice = Notice(
            box,
            bootstyle="warning",
            text=_(
                "Importante: Respaldos debe estar abierto a esa hora para que se haga el respaldo. "
                "Te sugerimos elegir una hora una o dos horas antes del cierre de tu negocio, "
                "cuando la computadora todavía está encendida."
            ),
        )
        self.notice.grid(row=6, column=0, sticky="ew", pady=(8, 10))

        self.catch_up_var = ttk.BooleanVar(value=True)
        self.catch_up = ttk.Checkbutton(
            box,
            text=_("Si la computadora estaba apagada a esa hora, respaldar al abrir"),
            variable=self.catch_up_var,
            command=self.changed,
        )
        self.catch_up.grid(row=7, column=0, sticky="w", pady=2)
        self.start_var = ttk.BooleanVar(value=False)
        self.start_with_system = ttk.Checkbutton(
            box, text=_("Iniciar Respaldos con el sistema"), variable=self.start_var, command=self.changed
        )
        self.start_with_system.grid(row=8, column=0, sticky="w", pady=2)
        self.other_problem = ProblemLabel(box)
        self.other_problem.grid(row=9, column=0, sticky="ew")
        self.problem_labels["schedule.catch_up"] = self.other_problem
        self.problem_labels["schedule.start_with_system"] = self.other_problem
        self.problem_labels["schedule.test_restore"] = self.other_problem

        # How often a backup is restored into a sandbox and its databases checked (wizard.core.drill.plan).
        drills = ttk.Frame(box, padding=(0, 10, 0, 0))
        drills.grid(row=10, column=0, sticky="w")
        ttk.Label(drills, text=_("Prueba de restauración:")).grid(row=0, column=0, padx=(0, 8))
        self.test_restore_var = ttk.StringVar(value="weekly")
        self.test_restore_radios: dict[str, ttk.Radiobutton] = {}
        for i, (value, text) in enumerate((("weekly", _("semanal")), ("monthly", _("mensual")), ("off", _("nunca")))):
            radio = ttk.Radiobutton(drills, text=text, value=value, variable=self.test_restore_var,
                                    command=self.changed)
            radio.grid(row=0, column=i + 1, padx=(0, 10))
            self.test_restore_radios[value] = radio

        for var in (self.hour_var, self.minute_var):
            var.trace_add("write", self.changed)

    # -- config ---------------------------------------------------------------------------------

    def load(self, config: Config) -> None:
        sched = config.schedule
        self.frequency_var.set(sched.frequency)
        for day, var in self.day_vars.items():
            var.set(day in sched.weekdays)
        hour, _sep, minute = sched.time.partition(":")
        self.hour_var.set(hour)
        self.minute_var.set(minute)
        self.catch_up_var.set(sched.catch_up)
        self.start_var.set(sched.start_with_system)
        self.test_restore_var.set(sched.test_restore)
        self._frequency_changed()

    def time_text(self) -> str:
        """What the two pickers say, as "HH:MM"; a lone digit is padded ("8" -> "08")."""
        hour = self.hour_var.get().strip()
        minute = self.minute_var.get().strip()
        if hour.isdigit() and len(hour) == 1:
            hour = "0" + hour
        if minute.isdigit() and len(minute) == 1:
            minute = "0" + minute
        return f"{hour}:{minute}"

    def store(self, config: Config) -> None:
        weekly = self.frequency_var.get() == "weekly"
        config.schedule = ScheduleConfig(
            frequency=self.frequency_var.get(),
            weekdays=[d for d in WEEKDAYS if self.day_vars[d].get()] if weekly else [],
            time=self.time_text(),
            catch_up=bool(self.catch_up_var.get()),
            start_with_system=bool(self.start_var.get()),
            test_restore=self.test_restore_var.get(),
        )

    def show_problems(self, problems) -> None:
        # The validator speaks the file's language ('frequency = "weekly"'); beside the days, plain words.
        problems = [
            Problem(p.key, _("Elige al menos un día de la semana."))
            if p.key == "schedule.weekdays"
            and self.frequency_var.get() == "weekly"
            and not any(v.get() for v in self.day_vars.values())
            else p
            for p in problems
        ]
        super().show_problems(problems)
        # The sentence shows what will happen, once the choice is complete.
        if problems:
            self.sentence.configure(text="")
        else:
            draft = ScheduleConfig()
            config = Config(schedule=draft)
            self.store(config)
            self.sentence.configure(text=describe_schedule(config.schedule))

    def _frequency_changed(self) -> None:
        weekly = self.frequency_var.get() == "weekly"
        for check in self.day_checks.values():
            check.state(["!disabled"] if weekly else ["disabled"])
        self.changed()

    def on_show(self) -> None:
        self.hour.focus_set()

    @property
    def sentence_text(self) -> str:
        return str(self.sentence.cget("text"))
