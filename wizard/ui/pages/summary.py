"""The summary: the configuration in words, next and last backup, "Respaldar ahora (F8)", progress while a
backup runs, a banner when it ends, the recent runs, and the permanent "leave it open" hint."""

from __future__ import annotations

import logging
import os
import tkinter
from datetime import datetime, timedelta
from tkinter import font as tkfont
from typing import TYPE_CHECKING, Any

import ttkbootstrap as ttk

from wizard.core import drives, history, machine, state
from wizard.core.config import Config
from wizard.core.schedule import describe, describe_overdue, format_next_run, local_now, next_run, overdue
from wizard.core.units import format_size
from wizard.i18n import _, ngettext
from wizard.ui.drill_panel import DrillPanel
from wizard.ui.pages.cloud import SignInPanel
from wizard.ui.pages.notify import NotifyStatusLine
from wizard.ui.password_panel import encryption_sentence
from wizard.ui.text import (
    cloud_wait_reason,
    describe_retention_short,
    describe_sources,
    format_duration,
    format_when,
    phase_text,
    provider_text,
    sign_in_button_text,
    status_text,
    trigger_text,
)
from wizard.ui.widgets import (
    BIG_BUTTON_STYLE,
    BOLD_FONT,
    HEADING_FONT,
    SMALL_FONT,
    TITLE_FONT,
    WrapLabel,
)
from wizard.ui.worker import BackgroundCall

if TYPE_CHECKING:
    from wizard.ui.app import RespaldosWindow

logger = logging.getLogger(__name__)

HISTORY_ROWS = 50
REFRESH_MS = 60_000  # "Próximo respaldo", "hoy/ayer" and the USB drive line stay current
BANNER_STYLES = {
    "ok": "success",
    "warning": "warning",
    "failed": "danger",
    "cancelled": "secondary",
    "skipped": "secondary",
}
BANNER_ICONS = {
    "success": "check-circle-fill",
    "warning": "exclamation-triangle-fill",
    "danger": "x-circle-fill",
    "secondary": "info-circle-fill",
}


def schedule_sentence(config: Config) -> str:
    return describe(config.schedule)


def next_run_sentence(config: Config, now: datetime | None = None) -> str:
    now = now or local_now()
    return format_next_run(next_run(config.schedule, now), now)


class SummaryPage(ttk.Frame):
    def __init__(self, master: tkinter.Misc, app: RespaldosWindow):
        super().__init__(master)
        self.app = app
        self.folder_info: drives.FolderInfo | None = None
        self._folder_call: BackgroundCall | None = None
        self.cloud_status: Any = None  # wizard.core.cloud.queue.CloudStatus, read on a worker
        self.cloud_outcome: Any = None  # the last CloudOutcome (a backup's upload or a sync)
        self.uploading = False  # an upload is running (a backup's or a sync's)
        self.syncing = False  # the window's sync of pending uploads is running
        self._cloud_call: BackgroundCall | None = None
        self._refresh_id: str | None = None
        self.columnconfigure(0, weight=1)
        self.rowconfigure(3, weight=1)
        self._build_header()
        self._build_banner()
        self._build_middle()
        self._build_history()
        self._build_footer()
        self.refresh()

    # -- layout ---------------------------------------------------------------------------------

    def _build_header(self) -> None:
        head = ttk.Frame(self, bootstyle="@chrome", padding=(24, 14))
        head.grid(row=0, column=0, sticky="ew")
        head.columnconfigure(1, weight=1)
        icon = self.app.icon_image(40)
        if icon is not None:
            ttk.Label(head, image=icon, bootstyle="@chrome").grid(row=0, column=0, rowspan=2, padx=(0, 12))
        ttk.Label(head, text=_("Respaldos"), font=TITLE_FONT, bootstyle="@chrome").grid(
            row=0, column=1, sticky="w"
        )
        ttk.Label(
            head,
            text=_("Copias de seguridad de los datos de tu punto de venta"),
            bootstyle="@chrome secondary",
        ).grid(row=1, column=1, sticky="w")
        self.next_label = ttk.Label(head, text="", font=HEADING_FONT, bootstyle="@chrome primary")
        self.next_label.grid(row=0, column=2, rowspan=2, sticky="e")

    def _build_banner(self) -> None:
        self.banner = ttk.Frame(self, bootstyle="@success", padding=(24, 10, 12, 10))
        self.banner.columnconfigure(0, weight=1)
        self.banner_label = WrapLabel(
            self.banner,
            text="",
            bootstyle="@success",
            font=BOLD_FONT,
            icon=BANNER_ICONS["success"],
            compound="left",
        )
        self.banner_label.grid(row=0, column=0, sticky="ew")
        self.banner_close = ttk.Button(
            self.banner, text="\u2715", width=3, bootstyle="@success ghost", command=self.hide_banner
        )
        self.banner_close.grid(row=0, column=1, padx=(8, 0))
        self._banner_style = "success"

    def _build_middle(self) -> None:
        middle = ttk.Frame(self, padding=(24, 14, 24, 10))
        middle.grid(row=2, column=0, sticky="ew")
        middle.columnconfigure(0, weight=3, uniform="mid")
        middle.columnconfigure(1, weight=2, uniform="mid")

        card = ttk.Labelframe(middle, text=_("Configuración"), padding=(14, 8))
        card.grid(row=0, column=0, sticky="nsew", padx=(0, 16))
        card.columnconfigure(1, weight=1)
        self.config_lines: dict[str, WrapLabel] = {}
        rows = [
            ("machine", _("Equipo:")),
            ("source", _("Qué:")),
            ("destination", _("Dónde:")),
            ("schedule", _("Cuándo:")),
            ("cloud", _("Nube:")),
            ("retention", _("Conservar:")),
            ("encryption", _("Contraseña:")),
            ("notify", _("Avisos:")),
        ]
        for i, (key, title) in enumerate(rows):
            # Every other grid row, so that a line can have something under it (the cloud's sign-in).
            ttk.Label(card, text=title, font=BOLD_FONT).grid(
                row=2 * i, column=0, sticky="nw", pady=2, padx=(0, 10)
            )
            line = WrapLabel(card, text="")
            line.grid(row=2 * i, column=1, sticky="ew", pady=2)
            self.config_lines[key] = line
        # Under the cloud line when the sign-in has to be renewed: the button and the browser wait.
        self.cloud_login = ttk.Frame(card, padding=(0, 2, 0, 6))
        self.cloud_login.columnconfigure(0, weight=1)
        self.cloud_login_button = ttk.Button(
            self.cloud_login, text="", bootstyle="primary", command=self.renew_sign_in
        )
        self.cloud_login_button.grid(row=0, column=0, sticky="w")
        self.cloud_panel = SignInPanel(
            self.cloud_login, self.app, on_success=self.app.cloud_signed_in, on_change=self._show_cloud
        )
        self.cloud_panel.grid(row=1, column=0, sticky="ew")
        self._cloud_login_row = 2 * [key for key, _title in rows].index("cloud") + 1
        self.notify_status = NotifyStatusLine(self.config_lines["notify"], self.app)

        action = ttk.Frame(middle)
        action.grid(row=0, column=1, sticky="nsew")
        action.columnconfigure(0, weight=1)
        self.backup_button = ttk.Button(
            action, text=_("Respaldar ahora (F8)"), style=BIG_BUTTON_STYLE, command=self.app.backup_now
        )
        self.backup_button.grid(row=0, column=0, sticky="ew")
        self.last_label = WrapLabel(action, text="", padding=(0, 8, 0, 0))
        self.last_label.grid(row=1, column=0, sticky="ew")
        self.drill_panel = DrillPanel(action, self.app)  # the last restore drill and "Probar ahora"
        self.drill_panel.grid(row=3, column=0, sticky="ew")
        # At the bottom of this column, level with the end of the configuration card beside it.
        action.rowconfigure(4, weight=1)
        self.edit_button = ttk.Button(
            action,
            text=_("Modificar configuración"),
            bootstyle="primary-outline",
            command=self.app.edit_config,
            icon="gear",
        )
        self.edit_button.grid(row=4, column=0, sticky="sw", pady=(10, 0))

        self.progress_box = ttk.Frame(action, padding=(0, 10, 0, 0))
        self.progress_box.columnconfigure(0, weight=1)
        self.phase_label = ttk.Label(self.progress_box, text="", font=BOLD_FONT)
        self.phase_label.grid(row=0, column=0, sticky="w")
        self.percent_label = ttk.Label(self.progress_box, text="", font=BOLD_FONT)
        self.percent_label.grid(row=0, column=1, sticky="e")
        self.progress = ttk.Progressbar(self.progress_box, maximum=100, bootstyle="success-striped")
        self.progress.grid(row=1, column=0, columnspan=2, sticky="ew", pady=4)
        self.current_label = ttk.Label(self.progress_box, text="", bootstyle="secondary", font=SMALL_FONT)
        self.current_label.grid(row=2, column=0, sticky="w")
        self.cancel_button = ttk.Button(
            self.progress_box, text=_("Cancelar"), bootstyle="danger-outline", command=self.cancel_clicked
        )
        self.cancel_button.grid(row=2, column=1, sticky="e", pady=(4, 0))

    def _build_history(self) -> None:
        box = ttk.Frame(self, padding=(24, 4, 24, 12))
        box.grid(row=3, column=0, sticky="nsew")
        box.columnconfigure(0, weight=1)
        box.rowconfigure(1, weight=1)
        heading = ttk.Frame(box)
        heading.grid(row=0, column=0, columnspan=2, sticky="ew", pady=(0, 6))
        ttk.Label(heading, text=_("Respaldos recientes"), font=HEADING_FONT).pack(side="left")
        self.restore_button = ttk.Button(
            heading,
            text=_("Restaurar..."),
            bootstyle="primary-outline",
            command=self.restore,
            icon="arrow-counterclockwise",
        )
        self.restore_button.pack(side="right")
        self.open_button = ttk.Button(
            heading,
            text=_("Abrir carpeta de respaldos"),
            bootstyle="primary-outline",
            command=self.open_folder,
            icon="folder2-open",
        )
        self.open_button.pack(side="right", padx=8)
        columns = ("when", "trigger", "status", "size", "duration", "detail")
        self.table = ttk.Treeview(
            box, columns=columns, show="headings", height=6, selectmode="browse", bootstyle="table"
        )
        headings = {
            "when": _("Fecha"),
            "trigger": _("Tipo"),
            "status": _("Resultado"),
            "size": _("Tamaño"),
            "duration": _("Duración"),
            "detail": _("Archivo o mensaje"),
        }
        # Column widths from the font, so they hold their longest usual value at any scaling.
        measure = tkfont.nametofont("TkDefaultFont", root=self).measure
        samples = {
            "when": "mié 28 sep 20:00",
            "trigger": trigger_text("test-restore"),  # the longest type (a restore drill)
            "status": _("Correcto") + " · " + _("verificado"),
            "size": "999.9 MB",
            "duration": "59 min 59 s",
            "detail": "x" * 40,
        }
        widths = {col: max(measure(text), measure(headings[col])) + 24 for col, text in samples.items()}
        for col in columns:
            self.table.heading(col, text=headings[col], anchor="w")
            self.table.column(col, width=widths[col], stretch=col == "detail", anchor="w")
        self.table.grid(row=1, column=0, sticky="nsew")
        scroll = ttk.Scrollbar(box, orient="vertical", command=self.table.yview)
        scroll.grid(row=1, column=1, sticky="ns")
        self.table.configure(yscrollcommand=scroll.set)
        colors = ttk.Style.get_instance().colors
        self.table.tag_configure("failed", foreground=colors.danger)
        self.table.tag_configure("warning", foreground=colors.get("warning"))
        self.table.tag_configure("muted", foreground=colors.secondary)
        self.empty_label = ttk.Label(
            box,
            text=_(
                "Todavía no se ha hecho ningún respaldo. Pulsa «Respaldar ahora (F8)» para hacer el primero."
            ),
            bootstyle="secondary",
        )

    def _build_footer(self) -> None:
        foot = ttk.Frame(self, bootstyle="@chrome", padding=(24, 8))
        foot.grid(row=4, column=0, sticky="ew")
        self.hint_label = ttk.Label(
            foot,
            icon="info-circle-fill",
            compound="left",
            text="  " + _("Deja esta aplicación abierta para que se hagan los respaldos programados"),
            bootstyle="@chrome",
        )
        self.hint_label.pack(side="left")

    # -- content --------------------------------------------------------------------------------

    @property
    def config(self) -> Config:
        assert self.app.config is not None
        return self.app.config

    def refresh(self) -> None:
        """Re-read everything shown: config lines, next run, last backup, history table."""
        config = self.config
        self.config_lines["machine"].configure(text=config.machine.name.strip() or machine.computer_name())
        self.config_lines["source"].configure(text=describe_sources(config.source))
        self._show_destination()
        self.config_lines["schedule"].configure(text=schedule_sentence(config))
        self._show_cloud()
        self._probe_cloud()
        self.config_lines["retention"].configure(text=describe_retention_short(config.retention))
        self.config_lines["encryption"].configure(text=encryption_sentence(config))
        self.next_label.configure(text=next_run_sentence(config, self.app.clock()))
        self.refresh_history()
        self._probe_destination()
        if self._refresh_id is not None:
            self.after_cancel(self._refresh_id)
        self._refresh_id = self.after(REFRESH_MS, self._periodic)

    def _periodic(self) -> None:
        self._refresh_id = None
        if not self.app.backup_running:
            self.refresh()
        else:
            self._refresh_id = self.after(REFRESH_MS, self._periodic)

    def _probe_destination(self) -> None:
        folder = self.config.destination.folder
        if self._folder_call is not None:
            self._folder_call.cancel()
        self._folder_call = BackgroundCall(
            self, lambda: drives.describe_folder(folder, probe=False), self._described, lambda exc: None
        ).start()

    def _described(self, info: drives.FolderInfo) -> None:
        self._folder_call = None
        self.folder_info = info
        self._show_destination()

    def _show_destination(self) -> None:
        folder = self.config.destination.folder
        info = self.folder_info
        line = self.config_lines["destination"]
        if info is None or str(info.path) != str(os.path.expanduser(folder)):
            line.configure(text=folder, bootstyle="default")
            return
        if not info.is_dir:
            line.configure(
                text=_(
                    "No se encontró la carpeta {folder}. Conecta la memoria USB o elige otra carpeta."
                ).format(folder=folder),
                bootstyle="danger",
            )
            return
        parts = [folder]
        if info.removable:
            parts.append(_("memoria USB o disco externo"))
        if info.free_bytes is not None:
            parts.append(_("{free} libres").format(free=format_size(info.free_bytes)))
        line.configure(text="  ·  ".join(parts), bootstyle="default")

    # -- cloud --------------------------------------------------------------------------------------

    def _probe_cloud(self) -> None:
        """Re-read the upload queue and whether the sign-in is stored (file lock, keyring: on a worker)."""
        config = self.config
        if self._cloud_call is not None:
            self._cloud_call.cancel()
            self._cloud_call = None
        if config.cloud.provider == "none":
            self.cloud_status = None
            self._show_cloud()
            return
        from wizard.core.cloud.queue import status

        self._cloud_call = BackgroundCall(
            self, lambda: status(config), self._cloud_read, lambda exc: self._cloud_read(None)
        ).start()

    def _cloud_read(self, cloud_status: Any) -> None:
        self._cloud_call = None
        self.cloud_status = cloud_status
        self._show_cloud()

    @property
    def cloud_needs_login(self) -> bool:
        st, outcome = self.cloud_status, self.cloud_outcome
        if st is None or self.config.cloud.provider == "none" or self.uploading or self.syncing:
            return False
        if not st.signed_in:
            return True
        waiting_for_login = bool(st.pending) and (st.last_error or {}).get("reason") == "login"
        return waiting_for_login or bool(outcome is not None and outcome.needs_login and st.pending)

    def _cloud_state(self) -> tuple[str, str]:
        """The part of the cloud line after the account, and its style."""
        st, outcome = self.cloud_status, self.cloud_outcome
        provider = self.config.cloud.provider
        if self.uploading:
            return _("subiendo..."), "default"
        if st is None:
            return "", "default"
        if self.cloud_needs_login:
            text = _("Vuelve a iniciar sesión con {provider}.").format(provider=provider_text(provider))
            return text, "danger"
        if not st.pending:
            text = _("al día")
            if st.last_upload and st.last_upload.get("at"):
                try:
                    when = format_when(datetime.fromisoformat(st.last_upload["at"]))
                except ValueError:
                    when = ""
                if when:
                    text += "  ·  " + _("última subida: {when}").format(when=when)
            return text, "default"
        count = len(st.pending)
        text = ngettext(
            "{count} respaldo pendiente de subir", "{count} respaldos pendientes de subir", count
        ).format(count=count)
        last_error = st.last_error or {}
        reason = outcome.reason if outcome is not None and outcome.reason else ""
        reason = reason or last_error.get("reason") or st.pending[0].reason
        why = cloud_wait_reason(reason or "", provider)
        if why:
            text += f" ({why})"
        elif last_error.get("message"):
            text += ". " + str(last_error["message"])
        return text, "warning"

    def _show_cloud(self) -> None:
        """ "Dropbox (Lupita Pérez) — 2 respaldos pendientes de subir (sin conexión)", "— al día", or
        "— Vuelve a iniciar sesión con Dropbox." with the button under it."""
        config = self.config
        line = self.config_lines["cloud"]
        provider = config.cloud.provider
        if provider == "none":
            line.configure(text=provider_text(provider), bootstyle="default")
            if not self.cloud_panel.busy:
                self.cloud_login.grid_forget()
            return
        text = provider_text(provider)
        if config.cloud.account:
            text += f" ({config.cloud.account})"
        state, style = self._cloud_state()
        if state:
            text += " — " + state
        line.configure(text=text, bootstyle=style)
        if self.cloud_needs_login or self.cloud_panel.busy or self.cloud_panel.message:
            self.cloud_login_button.configure(text=sign_in_button_text(provider))
            self.cloud_login_button.state(["disabled"] if self.cloud_panel.busy else ["!disabled"])
            if self.cloud_needs_login and not self.cloud_panel.busy:
                self.cloud_login_button.grid(row=0, column=0, sticky="w")
            else:
                self.cloud_login_button.grid_remove()
            self.cloud_login.grid(row=self._cloud_login_row, column=1, sticky="ew")
        else:
            self.cloud_login.grid_forget()

    @property
    def cloud_text(self) -> str:
        return str(self.config_lines["cloud"].cget("text"))

    def renew_sign_in(self) -> None:
        """ "Iniciar sesión con Dropbox" under the cloud line: the same browser sign-in as in the wizard."""
        self.cloud_panel.start(self.config.cloud)
        self._show_cloud()

    def sync_started(self) -> None:
        """A sync of the pending uploads began; its progress shows once something is being uploaded."""
        self.syncing = True
        self._show_cloud()

    def sync_finished(self, outcome: Any, *, backup_running: bool = False) -> None:
        self.uploading = self.syncing = False
        if not backup_running:
            self.progress_box.grid_forget()
            self.last_label.grid()
            if outcome is not None and outcome.status != "cancelled":
                self.cloud_outcome = outcome
        self._probe_cloud()

    def cancel_clicked(self) -> None:
        if self.app.backup_running:
            self.app.cancel_backup()
        else:
            self.app.cancel_sync()
            self.cancelling()

    def refresh_history(self) -> None:
        entries = history.read()
        self.table.delete(*self.table.get_children())
        recent = list(reversed(entries))[:HISTORY_ROWS]
        now = datetime.now()
        for i, entry in enumerate(recent):
            status = status_text(entry.status)
            if entry.succeeded and entry.verified:
                status += " \u00b7 " + _("verificado")
            detail = entry.archive if entry.succeeded and entry.archive else entry.message
            tags = {
                "failed": ("failed",),
                "warning": ("warning",),
                "cancelled": ("muted",),
                "skipped": ("muted",),
            }.get(entry.status, ())
            self.table.insert(
                "",
                "end",
                iid=str(i),
                tags=tags,
                values=(
                    format_when(entry.start, now),
                    trigger_text(entry.trigger),
                    status,
                    format_size(entry.size) if entry.size else "",
                    format_duration(entry.duration),
                    (detail or "").replace("\n", " "),
                ),
            )
        if recent:
            self.empty_label.grid_forget()
        else:
            self.empty_label.grid(row=1, column=0, sticky="n", pady=40)
        self._show_last(entries)
        self.drill_panel.show_last(entries)

    def _show_last(self, entries: list[history.HistoryEntry]) -> None:
        last = history.last_success(entries)
        if last is None:
            text = _("Último respaldo: todavía ninguno.")
            style = "secondary"
        else:
            text = _("Último respaldo: {when}  ·  {size}  ·  {status}").format(
                when=format_when(last.end),
                size=format_size(last.size),
                status=status_text(last.status).lower(),
            )
            if last.verified:
                text += "  ·  " + _("verificado")
            style = "default"
        late = self._overdue(last)
        if late is not None:
            text += "\n" + describe_overdue(late) + "."
            style = "danger"
        self.last_label.configure(text=text, bootstyle=style)

    def _overdue(self, last: history.HistoryEntry | None) -> timedelta | None:
        """The watchdog, as the core decides it: too long since the last success or, when backups always
        failed or never ran, since the config was saved."""
        try:
            saved = state.config_saved_at(self.app.config_path)
            return overdue(self.config.schedule, last.end if last else None, self.app.clock(), since=saved)
        except Exception:
            logger.warning("overdue check failed", exc_info=True)  # a hint only: the summary still opens
            return None

    # -- backup feedback ------------------------------------------------------------------------

    def backup_started(self, trigger: str) -> None:
        self.hide_banner()
        self.backup_button.state(["disabled"])
        self.edit_button.state(["disabled"])
        self.drill_panel.test_button.state(["disabled"])
        self.cancel_button.state(["!disabled"])
        self.cancel_button.configure(text=_("Cancelar"))
        self.progress.configure(value=0)
        self.uploading = False
        self.phase_label.configure(text=_("Preparando el respaldo..."))
        self.percent_label.configure(text="0 %")
        self.current_label.configure(text="")
        self.last_label.grid_remove()
        self.progress_box.grid(row=2, column=0, sticky="ew")

    def show_progress(self, event: Any) -> None:
        percent = float(getattr(event, "percent", 0.0))
        if getattr(event, "phase", "") == "upload":
            self._show_upload(event)
        self.progress.configure(value=percent)
        self.percent_label.configure(text=_("{p:.0f} %").format(p=percent))
        phase = phase_text(getattr(event, "phase", ""))
        if phase:
            self.phase_label.configure(text=phase)
        current = getattr(event, "current", "") or ""
        if len(current) > 60:
            current = "..." + current[-57:]
        self.current_label.configure(text=current)

    def _show_upload(self, event: Any) -> None:
        """A cloud upload event (a backup's own upload or a sync): "Subiendo a Dropbox (1 de 2)..."."""
        provider = provider_text(self.config.cloud.provider)
        count = int(getattr(event, "count", 1) or 1)
        if count > 1:
            text = _("Subiendo a {provider} ({index} de {count})...").format(
                provider=provider, index=getattr(event, "index", 1), count=count
            )
        else:
            text = _("Subiendo a {provider}...").format(provider=provider)
        self.phase_label.configure(text=text)
        if not self.uploading:
            self.uploading = True
            self._show_cloud()
        if not self.progress_box.winfo_manager():  # a sync: the backup button stays usable (F8 stops it)
            self.cancel_button.state(["!disabled"])
            self.cancel_button.configure(text=_("Cancelar"))
            self.last_label.grid_remove()
            self.progress_box.grid(row=2, column=0, sticky="ew")

    def cancelling(self) -> None:
        self.cancel_button.state(["disabled"])
        self.cancel_button.configure(text=_("Cancelando..."))
        if self.uploading:
            self.phase_label.configure(text=_("Cancelando la subida..."))
        else:
            self.phase_label.configure(text=_("Cancelando el respaldo..."))

    def backup_finished(self, result: Any) -> None:
        self.progress_box.grid_forget()
        self.last_label.grid()
        self.backup_button.state(["!disabled"])
        self.edit_button.state(["!disabled"])
        status = getattr(result, "status", "failed")
        message = getattr(result, "message", "") or status_text(status)
        style = BANNER_STYLES.get(status, "danger")
        cloud = getattr(result, "cloud", None)
        self.uploading = False
        if cloud is not None and cloud.status != "disabled":
            self.cloud_outcome = cloud
            if cloud.message:
                message += "\n" + cloud.message
            if style == "success" and not cloud.ok and cloud.status != "cancelled":
                style = "warning"  # the backup is safe here; the cloud copy still needs something
        self.show_banner(message, style)
        self.refresh_history()
        self.next_label.configure(text=next_run_sentence(self.config, self.app.clock()))
        self._probe_destination()
        self._probe_cloud()

    def backup_crashed(self, message: str) -> None:
        self.progress_box.grid_forget()
        self.last_label.grid()
        self.backup_button.state(["!disabled"])
        self.edit_button.state(["!disabled"])
        self.show_banner(message, "danger")
        self.refresh_history()

    def show_banner(self, text: str, style: str) -> None:
        if style != self._banner_style:
            self.banner.configure(bootstyle=f"@{style}")
            self.banner_label.configure(bootstyle=f"@{style}", icon=BANNER_ICONS[style])
            self.banner_close.configure(bootstyle=f"@{style} ghost")
            self._banner_style = style
        self.banner_label.configure(text=text)
        self.banner.grid(row=1, column=0, sticky="ew")

    def hide_banner(self) -> None:
        self.banner.grid_forget()

    @property
    def banner_text(self) -> str:
        return str(self.banner_label.cget("text")) if self.banner.winfo_manager() else ""

    # -- buttons --------------------------------------------------------------------------------

    def open_folder(self) -> None:
        folder = self.config.destination.folder
        if not os.path.isdir(os.path.expanduser(folder)):
            self.app.dialogs.warning(
                _("No se encontró la carpeta {folder}. Conecta la memoria USB o elige otra carpeta.").format(
                    folder=folder
                )
            )
            return
        self.app.open_path(os.path.expanduser(folder))

    def restore(self) -> None:
        """Open the "Restaurar..." dialog (it closes with this page)."""
        from wizard.ui.restore import open_restore_dialog

        dialog = getattr(self, "restore_dialog", None)
        if dialog is not None and dialog.winfo_exists():
            dialog.lift()
            return
        self.restore_dialog = open_restore_dialog(self, self.app)

    def destroy(self) -> None:
        if self._refresh_id is not None:
            try:
                self.after_cancel(self._refresh_id)
            except tkinter.TclError:
                pass
        if self._folder_call is not None:
            self._folder_call.cancel()
        if self._cloud_call is not None:
            self._cloud_call.cancel()
        super().destroy()
