"""The icon by the clock: a real X11 tray host (trayer) on the test display, the real pystray icon embedded
in it, the icon image the app hands to pystray read back, the menu's actions invoked as pystray invokes
them (on a thread of its own), and the window's scheduler on a fake clock while the window is hidden."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from datetime import timedelta

import pytest

from tests.tray_host import embedded_icons, notification_service, tray_host
from tests.ui.conftest import pump
from tests.ui.test_window_scheduler import (
    TICK,
    FakeClock,
    archives,
    daily_at,
    hold_the_worker_mid_archive,
    open_scheduled,
    slot_before_the_save,
)
from wizard.core import history, state
from wizard.core.schedule import local_now

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def tray(tk_root):
    """trayer owns the system tray of the session's display for the test; the shared root is shown again
    afterwards (a test may hide it to the tray)."""
    with tray_host(os.environ["DISPLAY"]) as host:
        yield host
    tk_root.deiconify()
    pump(tk_root, timeout=0.1)


@pytest.fixture
def desktop_notifications(tray):
    """The desktop's notification service (D-Bus and dunst): ``received()`` lists what reached it."""
    with notification_service(os.environ["DISPLAY"]) as received:
        yield received


def tile_colour(image) -> str:
    """Which of green, blue, red or amber the icon's tile is (a pixel of the tile beside the shield)."""
    r, g, b = image.convert("RGB").getpixel((5, image.height // 2))
    if g > r and g > b:
        return "green"
    if b > r and b > g:
        return "blue"
    if r > 180 and g > 100:
        return "amber"
    return "red"


def shown_colour(window) -> str:
    """The colour of the image pystray holds now (what the app handed it)."""
    return tile_colour(window.tray.icon.icon)


def menu_item(window, text: str):
    for item in window.tray.icon.menu.items:
        if item.text == text:
            return item
    raise AssertionError(f"no menu item {text!r} in {[i.text for i in window.tray.icon.menu.items]}")


def click(window, text: str) -> None:
    """Invoke a menu item as pystray does: on its own thread, with the icon."""
    clicker = threading.Thread(target=menu_item(window, text), args=(window.tray.icon,))
    clicker.start()
    clicker.join(5)


def wait_embedded(tk_root) -> list:
    seen = []

    def embedded() -> bool:
        seen[:] = embedded_icons(os.environ["DISPLAY"])
        return bool(seen)

    assert pump(tk_root, until=embedded, timeout=10), "no icon in the tray"
    return seen


def test_the_icon_appears_in_the_tray_green_with_its_menu_and_the_next_backup_as_a_disabled_line(
        tk_root, tray, open_window, saved_config):
    window = open_window(saved_config)
    assert window.start_tray()

    icons = wait_embedded(tk_root)
    assert len(icons) == 1
    assert pump(tk_root, until=lambda: icons and embedded_icons(os.environ["DISPLAY"])[0][1]
                == "Respaldos: todo en orden", timeout=5)
    assert shown_colour(window) == "green"
    items = [(item.text, item.enabled) for item in window.tray.icon.menu.items]
    assert items[:3] == [("Abrir Respaldos", True), ("Respaldar ahora", True),
                         (window.summary.next_label.cget("text"), False)]
    assert items[4] == ("Salir", True)  # after a separator
    assert items[2][0].startswith("Próximo respaldo: ")


def test_respaldar_ahora_in_the_menu_starts_a_backup_the_icon_turns_blue_with_the_percent_then_green(
        tk_root, tray, desktop_notifications, open_window, saved_config, usb, monkeypatch):
    reached, release = hold_the_worker_mid_archive(monkeypatch)
    window = open_window(saved_config)
    assert window.start_tray()
    wait_embedded(tk_root)

    click(window, "Respaldar ahora")
    assert pump(tk_root, until=lambda: window.worker is not None, timeout=5)
    assert window.worker.trigger == "manual"
    assert pump(tk_root, until=reached.is_set, timeout=30)
    assert pump(tk_root, until=lambda: shown_colour(window) == "blue", timeout=5)
    assert pump(tk_root, until=lambda: "%" in window.tray.icon.title, timeout=5)
    assert window.tray.icon.title.startswith("Respaldos: respaldando... ")
    assert not menu_item(window, "Respaldar ahora").enabled

    release.set()
    assert pump(tk_root, until=lambda: not window.backup_running, timeout=60)
    assert pump(tk_root, until=lambda: shown_colour(window) == "green", timeout=5)
    assert len(archives(usb)) == 1
    assert window.tray.notifications == [], "no notification for a success"
    assert desktop_notifications() == []
    pump(tk_root, timeout=0.5)
    assert len(embedded_icons(os.environ["DISPLAY"])) == 1, "still in the tray after its changes"


def test_a_failed_backup_turns_the_icon_red_and_raises_a_notification(
        tk_root, tray, desktop_notifications, open_window, saved_config, usb):
    window = open_window(saved_config)
    assert window.start_tray()
    wait_embedded(tk_root)
    shutil.rmtree(usb)  # the USB memory is unplugged
    assert window.on_close() is False  # to the tray: the user is not looking at the window

    click(window, "Respaldar ahora")
    assert pump(tk_root, until=lambda: history.read(), timeout=30)
    assert history.read()[-1].status == "failed"
    assert pump(tk_root, until=lambda: shown_colour(window) == "red", timeout=5)
    assert "El último respaldo falló." in window.tray.icon.title
    assert pump(tk_root, until=lambda: len(desktop_notifications()) == 2, timeout=10)
    hint, failure = desktop_notifications()
    assert hint == ("Respaldos", "Respaldos", "Respaldos sigue funcionando aquí")
    app, title, message = failure
    assert (app, title) == ("Respaldos", "Respaldos: el respaldo falló")
    assert "Conecta la memoria USB" in message


def test_closing_the_window_hides_it_to_the_tray_once_with_a_hint_and_the_schedule_still_backs_up(
        tk_root, tray, desktop_notifications, open_window, saved_config, usb, dialogs):
    slot = slot_before_the_save()
    daily_at(saved_config, slot)
    clock = FakeClock(slot - timedelta(seconds=30))
    window = open_scheduled(open_window, saved_config, clock)
    assert window.start_tray()
    wait_embedded(tk_root)

    assert window.on_close() is False
    pump(tk_root, timeout=0.2)
    assert tk_root.state() == "withdrawn"
    assert dialogs.questions == [], "no question: nothing stops"
    assert window.tray.notifications == [("Respaldos", "Respaldos sigue funcionando aquí")]

    clock.advance(seconds=30)
    assert pump(tk_root, until=lambda: window.worker is not None, timeout=5)
    assert window.worker.trigger == "scheduled"
    assert pump(tk_root, until=lambda: not window.backup_running, timeout=60)
    assert len(archives(usb)) == 1
    assert history.read()[-1].trigger == "scheduled" and history.read()[-1].status == "ok"

    click(window, "Abrir Respaldos")
    assert pump(tk_root, until=lambda: tk_root.state() == "normal", timeout=5)
    assert window.on_close() is False
    pump(tk_root, timeout=5 * TICK)
    assert len(window.tray.notifications) == 1, "the hint is said once"
    assert pump(tk_root, until=lambda: desktop_notifications(), timeout=10)
    pump(tk_root, timeout=0.5)
    assert desktop_notifications() == [("Respaldos", "Respaldos", "Respaldos sigue funcionando aquí")]


def test_an_overdue_backup_turns_the_icon_amber_and_raises_one_notification(
        tk_root, tray, desktop_notifications, open_window, saved_config):
    now = local_now()
    daily_at(saved_config, now - timedelta(hours=2))
    state.record_config_saved(saved_config, now - timedelta(days=3))  # never a backup since
    window = open_window(saved_config)
    assert window.start_tray()
    wait_embedded(tk_root)

    assert pump(tk_root, until=lambda: shown_colour(window) == "amber", timeout=5)
    assert "Hace 3 días que no se hace un respaldo." in window.tray.icon.title
    assert pump(tk_root, until=lambda: desktop_notifications(), timeout=10)
    window.tray.refresh()
    pump(tk_root, timeout=0.5)
    assert desktop_notifications() == [("Respaldos", "Respaldos", "Hace 3 días que no se hace un respaldo.")]


def test_salir_in_the_menu_asks_first_saying_scheduled_backups_stop(
        tk_root, tray, open_window, saved_config, dialogs):
    window = open_window(saved_config)
    assert window.start_tray()
    wait_embedded(tk_root)
    window.on_close()
    dialogs.confirm_answer = False

    click(window, "Salir")
    assert pump(tk_root, until=lambda: dialogs.questions, timeout=5)
    assert "los respaldos programados no se harán" in dialogs.questions[-1]
    assert tk_root.state() == "normal", "the window comes up to ask"
    assert window.quits == [] and window.tray is not None

    dialogs.confirm_answer = True
    click(window, "Salir")
    assert pump(tk_root, until=lambda: window.quits, timeout=5)
    assert window.tray is None and window.scheduler is None


def click_icon(icon_window: int, button: int) -> None:
    subprocess.run(["xdotool", "mousemove", "--window", str(icon_window), "4", "4", "click", str(button)],
                   check=True)


def test_on_x11_a_left_click_on_the_icon_opens_the_window_and_a_right_click_shows_the_menu(
        tk_root, tray, open_window, saved_config, usb):
    window = open_window(saved_config)
    assert window.start_tray()
    [(icon_window, _name)] = wait_embedded(tk_root)
    window.on_close()
    pump(tk_root, timeout=0.2)
    assert tk_root.state() == "withdrawn"

    click_icon(icon_window, 1)
    assert pump(tk_root, until=lambda: tk_root.state() == "normal", timeout=5)

    window.on_close()
    click_icon(icon_window, 3)
    assert pump(tk_root, until=lambda: window.tray.tk_menu is not None and window.tray.tk_menu.winfo_ismapped(),
                timeout=5)
    menu = window.tray.tk_menu
    labels = [menu.entrycget(i, "label") if menu.type(i) != "separator" else "-" for i in range(menu.index("end") + 1)]
    assert labels[:2] == ["Abrir Respaldos", "Respaldar ahora"] and labels[-2:] == ["-", "Salir"]
    assert labels[2].startswith("Próximo respaldo: ") and menu.entrycget(2, "state") == "disabled"
    menu.invoke(1)
    menu.unpost()
    assert pump(tk_root, until=lambda: window.worker is not None, timeout=5)
    assert pump(tk_root, until=lambda: not window.backup_running, timeout=60)
    assert len(archives(usb)) == 1


def test_without_a_tray_closing_asks_as_before(tk_root, open_window, saved_config, dialogs):
    window = open_window(saved_config)
    assert not window.start_tray()
    dialogs.confirm_answer = False  # "Minimizar"

    assert window.on_close() is False
    assert "los respaldos programados no se harán" in dialogs.questions[-1]
    tk_root.deiconify()
