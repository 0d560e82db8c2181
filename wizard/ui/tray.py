"""The icon by the clock (pystray): its colour says how backups are, its menu opens the window, backs up
now or quits, and closing the window hides it there (issue 18).

Three looks: green when all is well, blue while a backup runs (the percent in the tooltip), red when the
last backup failed and amber for the rest of what needs the user (overdue, the cloud's sign-in, a notice
that cannot be sent, the configuration not finished). Failures, an overdue backup and an expired cloud
sign-in also raise a system notification (pystray's, or ``notify-send`` where pystray's X11 backend has
none); successes do not.

Threads: pystray's loop runs on a thread of its own and its setup thread applies every change the Tk
thread asks for (a queue), so the Tk thread never waits for the tray. Menu actions only post to the
window's ThreadInbox, which runs them on the Tk thread (the workers' queue and ``after`` mechanism).
"""

from __future__ import annotations

import logging
import queue
import shutil
import subprocess
import sys
import threading
import tkinter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PIL import Image, ImageDraw

from wizard.core import history, state
from wizard.core.schedule import describe_overdue, overdue
from wizard.i18n import _
from wizard.ui.text import provider_text

if TYPE_CHECKING:
    from wizard.ui.app import RespaldosWindow
    from wizard.ui.worker import ThreadInbox

logger = logging.getLogger(__name__)

OK, RUNNING, FAILED, WARNING = "ok", "running", "failed", "warning"
COLORS = {OK: (25, 150, 75), RUNNING: (37, 117, 252), FAILED: (205, 35, 45), WARNING: (230, 145, 0)}
ICON_SIZE = 64
REFRESH_MS = 30_000  # overdue, the cloud's sign-in and the notices are looked at again this often
TOOLTIP_MAX = 127  # Windows holds a tray tooltip of 128 characters, a notification's title 64 and text 256
TITLE_MAX, MESSAGE_MAX = 63, 255
NOTIFIED_KINDS = ("overdue", "cloud")  # raised once when they appear; a failure is raised by the backup
HINT_NAME = "tray-hint"


def draw_icon(look: str, size: int = ICON_SIZE) -> Image.Image:
    """The app's shield on a tile of the look's colour, with a mark that says the same for the colour-blind:
    a check (ok), an arrow (running), an exclamation mark (failed, warning)."""
    big = 256
    color = COLORS[look]
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    d = ImageDraw.Draw(image)
    d.rounded_rectangle([4, 4, big - 5, big - 5], radius=48, fill=(*color, 255))
    cx, top, side, tip, half = 128, 34, 130, 226, 80
    d.polygon([(cx - half, top + 18), (cx, top), (cx + half, top + 18), (cx + half, side),
               (cx, tip), (cx - half, side)], fill=(255, 255, 255, 255))
    ink = (*color, 255)
    if look == OK:
        d.line([(92, 124), (118, 150), (166, 98)], fill=ink, width=22, joint="curve")
    elif look == RUNNING:
        d.line([(cx, 170), (cx, 88)], fill=ink, width=22)
        d.polygon([(cx - 36, 112), (cx, 72), (cx + 36, 112)], fill=ink)
    else:
        d.rounded_rectangle([cx - 12, 70, cx + 12, 144], radius=10, fill=ink)
        d.ellipse([cx - 14, 158, cx + 14, 186], fill=ink)
    return image.resize((size, size), Image.LANCZOS)


def attention(window: RespaldosWindow) -> dict[str, str]:
    """What needs the user now, by kind ("setup", "failed", "overdue", "cloud", "notices"): a sentence each."""
    config = window.config
    if config is None:
        return {"setup": _("Falta terminar de configurar los respaldos.")}
    reasons: dict[str, str] = {}
    entries = history.read()
    finished = [e for e in entries if e.status in ("ok", "warning", "failed")]
    if finished and finished[-1].status == "failed":
        reasons["failed"] = _("El último respaldo falló.")
    last = history.last_success(entries)
    try:
        late = overdue(config.schedule, last.end if last else None, window.clock(),
                       since=state.config_saved_at(window.config_path))
    except Exception:
        logger.warning("overdue check failed", exc_info=True)
        late = None
    if late is not None:
        reasons["overdue"] = describe_overdue(late) + "."
    summary = window.summary
    if summary is not None and summary.cloud_needs_login:
        reasons["cloud"] = _("Vuelve a iniciar sesión con {provider}: los respaldos no se están subiendo a la "
                             "nube.").format(provider=provider_text(config.cloud.provider))
    notices = getattr(getattr(summary, "notify_status", None), "status", None)
    if notices is not None and notices.problems:
        reasons["notices"] = notices.problems[0]
    return reasons


def tray_host_present(pystray: Any) -> bool:
    """Whether an icon can appear. pystray's X11 backend (the one without GTK, as in the executable) needs
    a tray host owning the system-tray selection, which a desktop without a tray lacks; the Windows, macOS
    and GTK backends find their own."""
    if pystray.Icon.__module__ != "pystray._xorg":
        return True
    import Xlib.display
    import Xlib.X

    display = Xlib.display.Display()
    try:
        selection = display.intern_atom(f"_NET_SYSTEM_TRAY_S{display.get_default_screen()}")
        return display.get_selection_owner(selection) != Xlib.X.NONE
    finally:
        display.close()


def icon_class(pystray: Any, on_menu: Callable[[int, int], None]) -> Any:
    """pystray's Icon, with two fixes to its X11 backend (the one without GTK, as in the executable): it asks
    the tray to embed it once, not again at every change of image (a second request for the same window makes
    trayer drop it), and it listens to clicks, which it does not by itself: the left one opens the window
    (the default item), the right one calls ``on_menu(x, y)`` on pystray's thread to show the menu, which
    that backend cannot draw, drawn by Tk."""
    base = pystray.Icon
    if base.__module__ != "pystray._xorg":
        return base
    import Xlib.X

    class X11Icon(base):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any):
            super().__init__(*args, **kwargs)
            self._window.change_attributes(
                event_mask=Xlib.X.ExposureMask | Xlib.X.StructureNotifyMask | Xlib.X.ButtonPressMask)
            self._display.flush()

        def _assert_docked(self) -> None:
            if self._systray_manager is None:  # again only when the tray went away (pystray clears it then)
                self._dock_window()
            assert self._systray_manager

        def _on_button_press(self, event: Any) -> None:
            if event.detail == 3:
                on_menu(event.root_x, event.root_y)
            else:
                super()._on_button_press(event)

    return X11Icon


class Tray:
    """The icon of one window. ``start()`` says whether it could appear; from then on the window calls
    ``refresh()``, ``progress()``, ``backup_finished()`` and ``notify()`` on the Tk thread."""

    def __init__(self, window: RespaldosWindow, inbox: ThreadInbox):
        self.window = window
        self.inbox = inbox
        self.icon: Any = None  # the pystray.Icon
        self.look = ""
        self.tooltip = ""
        self.reasons: dict[str, str] = {}
        self.next_text = ""
        self.can_back_up = False
        self.notifications: list[tuple[str, str]] = []  # (title, message) raised, newest last
        self._percent = 0.0
        self._changes: queue.Queue[tuple[str, Any] | None] = queue.Queue()
        self._images = {look: draw_icon(look) for look in COLORS}
        self._loop: threading.Thread | None = None
        self._refresh_id: str | None = None
        self._notified: set[str] = set()
        self.tk_menu: tkinter.Menu | None = None
        self._menu_shown: tuple[str, bool] | None = None

    # -- starting and stopping -----------------------------------------------------------------------

    def start(self) -> bool:
        """Show the icon; False (and nothing shown) where there is no tray."""
        try:
            import pystray

            if not tray_host_present(pystray):
                logger.info("no system tray: closing the window quits as before")
                return False
        except Exception:  # no display connection, no backend for this desktop
            logger.warning("the tray icon is not available", exc_info=True)
            return False
        self._update_texts()
        status = self._status()
        self.look, self.tooltip = status
        menu = pystray.Menu(
            pystray.MenuItem(_("Abrir Respaldos"), self._post(self.window.show_window), default=True),
            pystray.MenuItem(_("Respaldar ahora"), self._post(self.window.backup_from_tray),
                             enabled=lambda item: self.can_back_up),
            pystray.MenuItem(lambda item: self.next_text, None, enabled=False),
            pystray.Menu.SEPARATOR,
            pystray.MenuItem(_("Salir"), self._post(self.window.quit_from_tray)),
        )
        icon_type = icon_class(pystray, lambda x, y: self.inbox.post(lambda: self.popup_menu(x, y)))
        self.icon = icon_type("respaldos", self._images[self.look], self._tooltip_text(), menu)
        if sys.platform == "darwin":  # pystray's documented way beside another loop there (Tk's)
            self.icon.run_detached(setup=self._apply_changes)
        else:
            # Not run_detached: on X11 it starts the setup thread twice, and one of them never ends.
            self._loop = threading.Thread(target=self.icon.run, kwargs={"setup": self._apply_changes},
                                          name="bandeja", daemon=True)
            self._loop.start()
        self._refresh_id = self.window.root.after(REFRESH_MS, self._periodic)
        self.refresh()
        return True

    def stop(self) -> None:
        if self.tk_menu is not None:
            self.tk_menu.destroy()
            self.tk_menu = None
        if self._refresh_id is not None:
            try:
                self.window.root.after_cancel(self._refresh_id)
            except tkinter.TclError:  # the window is already gone
                logger.debug("tray refresh already cancelled")
            self._refresh_id = None
        if self.icon is not None:
            self._changes.put(None)
            if self._loop is not None:
                self._loop.join(timeout=5)

    def _post(self, func: Callable[[], Any]) -> Callable[..., None]:
        """A menu action: pystray calls it on its thread; ``func`` runs on the Tk thread."""

        def action(icon: Any = None, item: Any = None) -> None:
            self.inbox.post(func)

        return action

    def _apply_changes(self, icon: Any) -> None:
        """pystray's setup thread: show the icon, then apply what the Tk thread asked, until stop."""
        icon.visible = True
        while True:
            change = self._changes.get()
            if change is None:
                icon.stop()
                return
            kind, value = change
            try:
                if kind == "image":
                    icon.icon = value
                elif kind == "title":
                    icon.title = value
                elif kind == "menu":
                    icon.update_menu()
                elif kind == "notify":
                    self._raise(icon, *value)
            except Exception:
                logger.warning("the tray icon could not be updated (%s)", kind, exc_info=True)

    def popup_menu(self, x: int, y: int) -> None:
        """Tk thread: the tray's menu, drawn by Tk at the pointer (X11 without GTK draws none)."""
        import pystray

        if self.tk_menu is not None:
            self.tk_menu.destroy()
        self._update_texts()
        self.tk_menu = tkinter.Menu(self.window.root, tearoff=False)
        for item in self.icon.menu.items:
            if item is pystray.Menu.SEPARATOR:
                self.tk_menu.add_separator()
            else:
                self.tk_menu.add_command(label=item.text, state="normal" if item.enabled else "disabled",
                                         command=lambda item=item: item(self.icon))
        # Open away from the screen's edge the tray is on, as the system's tray menus do: not over the icon.
        root = self.window.root
        self.tk_menu.update_idletasks()  # its size is known once Tk has laid it out
        if y > root.winfo_screenheight() // 2:
            y -= self.tk_menu.winfo_reqheight()
        if x > root.winfo_screenwidth() // 2:
            x -= self.tk_menu.winfo_reqwidth()
        self.tk_menu.tk_popup(x, y)

    # -- what it shows -------------------------------------------------------------------------------

    def _status(self) -> tuple[str, str]:
        if self.window.backup_running:
            return RUNNING, _("Respaldos: respaldando... {p:.0f} %").format(p=self._percent)
        if "failed" in self.reasons:
            look = FAILED
        elif self.reasons:
            look = WARNING
        else:
            return OK, _("Respaldos: todo en orden")
        return look, _("Respaldos: {problems}").format(problems=" · ".join(self.reasons.values()))

    def _tooltip_text(self) -> str:
        return _cut(self.tooltip, TOOLTIP_MAX)

    def _update_texts(self) -> None:
        from wizard.ui.pages.summary import next_run_sentence

        config = self.window.config
        self.next_text = next_run_sentence(config, self.window.clock()) if config is not None else _(
            "Sin respaldos programados")
        self.can_back_up = config is not None and not self.window.backup_running

    def _show(self) -> None:
        look, tooltip = self._status()
        if look != self.look:
            self._changes.put(("image", self._images[look]))
        if tooltip != self.tooltip:
            self.tooltip = tooltip
            self._changes.put(("title", self._tooltip_text()))
        self.look = look
        menu = (self.next_text, self.can_back_up)
        if menu != self._menu_shown:  # not at every progress event: Windows builds the menu anew each time
            self._menu_shown = menu
            self._changes.put(("menu", None))

    def refresh(self) -> None:
        """Tk thread: look again at what needs the user; raise a notification for what newly does."""
        if self.icon is None:
            return
        self.reasons = attention(self.window)
        for kind in NOTIFIED_KINDS:
            if kind in self.reasons and kind not in self._notified:
                self.notify(_("Respaldos"), self.reasons[kind])
        self._notified = set(self.reasons)
        self._update_texts()
        self._show()

    def _periodic(self) -> None:
        self._refresh_id = self.window.root.after(REFRESH_MS, self._periodic)
        self.refresh()

    def progress(self, percent: float) -> None:
        """Tk thread: a backup's progress (the tooltip shows the percent)."""
        if self.icon is None:
            return
        self._percent = percent
        self._update_texts()
        self._show()

    def backup_started(self) -> None:
        self.progress(0.0)

    def backup_finished(self, failure: str | None) -> None:
        """Tk thread: every end changes the look; ``failure`` (a failed backup's message, when the user is
        not already looking at it) raises a notification."""
        if self.icon is None:
            return
        if failure is not None:
            self.notify(_("Respaldos: el respaldo falló"), failure)
        self.refresh()

    # -- notifications -------------------------------------------------------------------------------

    def notify(self, title: str, message: str) -> None:
        """Tk thread: a system notification (never a window of ours)."""
        if self.icon is None:
            return
        title, message = _cut(title, TITLE_MAX), _cut(message, MESSAGE_MAX)
        self.notifications.append((title, message))
        self._changes.put(("notify", (title, message)))

    def hidden_hint(self) -> None:
        """The window was closed to the tray: say so, once on this installation."""
        try:
            first = state.first_time(HINT_NAME)
        except OSError:
            logger.warning("could not remember the tray hint", exc_info=True)
            first = True
        if first:
            self.notify(_("Respaldos"), _("Respaldos sigue funcionando aquí"))

    @staticmethod
    def _raise(icon: Any, title: str, message: str) -> None:
        """pystray's notification where it has one (Windows, macOS, GTK); on X11, the desktop's through
        ``notify-send`` (freedesktop notifications); else only the log."""
        if icon.HAS_NOTIFICATION:
            icon.notify(message, title)
            return
        tool = shutil.which("notify-send")
        if tool is None:
            logger.info("no notification service for: %s: %s", title, message)
            return
        subprocess.run([tool, "--app-name=Respaldos", title, message], check=False, timeout=5,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
