"""Save a PNG of every wizard step and of the summary (during and after a backup) to docs/screenshots/.

    python tools/screenshots.py [--out docs/screenshots] [--scaling 1.0]

Runs the real window on demo data in a temporary folder (your own config and history are not touched).
Without a display it starts Xvfb (1366x768) by itself; it needs Xvfb and ImageMagick's ``import``.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCREEN = (1366, 768)


def free_display() -> int:
    for number in range(90, 200):
        if not Path(f"/tmp/.X{number}-lock").exists() and not Path(f"/tmp/.X11-unix/X{number}").exists():
            return number
    raise RuntimeError("no free X display number")


def start_xvfb() -> subprocess.Popen | None:
    if os.environ.get("DISPLAY"):
        return None
    number = free_display()
    proc = subprocess.Popen(
        ["Xvfb", f":{number}", "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.environ["DISPLAY"] = f":{number}"
    for _ in range(100):
        if Path(f"/tmp/.X11-unix/X{number}").exists():
            break
        time.sleep(0.05)
    return proc


def make_demo_data(base: Path) -> tuple[Path, Path]:
    """A small POS data folder (SQLite database, product photos, XML invoices) and a "USB" folder."""
    from wizard.core.demo import make_pos_database

    data = base / "SICAR" / "datos"
    (data / "imagenes").mkdir(parents=True)
    (data / "facturas").mkdir()
    make_pos_database(data / "punto_de_venta.db", 48 * 1024 * 1024)
    rng = random.Random(1)
    for i in range(40):
        (data / "imagenes" / f"producto_{i:03d}.jpg").write_bytes(rng.randbytes(30_000))
    for i in range(60):
        (data / "facturas" / f"F{1000 + i}.xml").write_text(
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<cfdi:Comprobante Folio="{1000 + i}" Total="{rng.randint(50, 5000)}.00"/>',
            encoding="utf-8",
        )
    usb = base / "media" / "KINGSTON" / "Respaldos"
    usb.mkdir(parents=True)
    return data, usb


class QuietDialogs:
    """Answers every question without opening a modal window (a screenshot run has no one to click)."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def info(self, message, title=None):
        self.messages.append(message)

    warning = error = info

    def confirm(self, message, title=None, yes=None, no=None):
        self.messages.append(message)
        return True

    def choose_directory(self, title, initial=None):
        return None

    def choose_files(self, title, initial=None):
        return []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument(
        "--scaling", type=float, default=None, help="Tk scaling (1.33 = 100 %%, 2.0 = 150 %%)"
    )
    args = parser.parse_args()
    if not shutil.which("import"):
        sys.exit("ImageMagick's 'import' is needed (apt-get install imagemagick)")

    xvfb = start_xvfb()
    work = Path(tempfile.mkdtemp(prefix="respaldos-capturas-"))
    for var, sub in (("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"), ("XDG_STATE_HOME", "state")):
        os.environ[var] = str(work / sub)
    os.environ.setdefault("RESPALDOS_LANG", "es")
    sys.path.insert(0, str(REPO))
    try:
        return capture(args.out, work, args.scaling)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait()


def capture(out: Path, work: Path, scaling: float | None) -> int:
    from wizard.core.config import Config
    from wizard.ui import app as app_mod

    data, usb = make_demo_data(work)
    out.mkdir(parents=True, exist_ok=True)
    root = app_mod.create_root()
    if scaling:
        root.tk.call("tk", "scaling", scaling)
    root.geometry(f"{SCREEN[0] - 40}x{SCREEN[1] - 90}+20+20")
    dialogs = QuietDialogs()
    config_path = work / "config" / "Respaldos" / "respaldos.toml"
    window = app_mod.RespaldosWindow(root, config_path, dialogs=dialogs, run_scheduler=False)

    def pump(seconds: float = 0.6, until=None) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            root.update()
            if until is not None and until():
                root.update()
                return
            time.sleep(0.01)

    def shot(name: str) -> None:
        pump(0.5)
        target = out / f"{name}.png"
        subprocess.run(["import", "-window", str(root.winfo_id()), str(target)], check=True)
        print(f"wrote {target}")

    wizard = window.wizard
    assert wizard is not None
    pump(1.0)
    shot("01-sin-datos")
    wizard.steps[0].add_paths([str(data)])
    pump(5.0, until=lambda: wizard.steps[0].size_info is not None)
    shot("02-que-respaldar")
    search = wizard.steps[0].open_detect_dialog(search_roots=[str(data.parent)], look_for_servers=False)
    pump(30.0, until=lambda: search.result is not None)
    pump(0.5)
    target = out / "02b-buscar-en-este-equipo.png"
    subprocess.run(["import", "-window", str(search.winfo_id()), str(target)], check=True)
    print(f"wrote {target}")
    search.close()
    wizard.next()
    wizard.steps[1].folder_var.set(str(usb))
    pump(3.0, until=lambda: not wizard.steps[1].busy)
    shot("03-donde-guardar")
    wizard.next()
    step = wizard.steps[2]
    step.frequency_var.set("weekly")
    step._frequency_changed()
    for day in ("monday", "wednesday", "friday"):
        step.day_vars[day].set(True)
    step.changed()
    shot("04-cuando")
    step.frequency_var.set("daily")
    step._frequency_changed()
    step.hour_var.set("25")
    shot("04b-cuando-hora-invalida")
    step.hour_var.set("20")
    wizard.next()
    wizard.steps[3].provider_var.set("dropbox")
    wizard.steps[3]._provider_changed()
    shot("05-nube")
    wizard.steps[3].provider_var.set("none")
    wizard.steps[3]._provider_changed()
    wizard.next()
    shot("06-cuantos-conservar")
    wizard.next()
    step = wizard.steps[5]
    step.toggle("email")
    step.email_var.set("dueno@ejemplo.mx")
    step.use_gmail()
    step.user_var.set("tienda.avisos@gmail.com")
    step.toggle_guide("gmail")
    shot("06b-avisos")
    # Saved without notices: the later pictures must not try to send anything from this computer.
    step.load(Config())
    step.changed()
    wizard.next()  # saves and shows the summary
    pump(1.0)
    shot("07-resumen")

    # Hold the backup half way (inside the engine's progress report) for the "during" picture.
    release = threading.Event()
    reached = threading.Event()
    from wizard.ui.worker import BackupWorker

    original = BackupWorker.report

    def slow_report(self, event):
        original(self, event)
        if getattr(event, "phase", "") == "compress" and event.percent >= 35 and not reached.is_set():
            reached.set()
            release.wait(30)

    BackupWorker.report = slow_report  # type: ignore[method-assign]
    try:
        window.backup_now()
        pump(20.0, until=reached.is_set)
        pump(0.4)
        shot("08-respaldando")
    finally:
        release.set()
        BackupWorker.report = original  # type: ignore[method-assign]
    pump(60.0, until=lambda: not window.backup_running)
    shot("09-respaldo-terminado")

    # The USB drive unplugged: the summary says what to do.
    shutil.rmtree(usb)
    window.summary.refresh()
    pump(1.0)
    window.backup_now()
    pump(30.0, until=lambda: not window.backup_running)
    shot("10-memoria-desconectada")
    window.destroy()
    root.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
