"""Lowering the priority of the thread a drill runs on, so that reading and checking a backup does not slow
the POS: on Linux nice 19 and the idle I/O class for this thread only (threads and programs it starts
inherit them), on Windows the thread's background mode (CPU, disk and memory). Best effort: never fails.
On macOS the nice value is the whole process's: left alone there."""

from __future__ import annotations

import ctypes
import logging
import os
import platform
import sys
import threading

logger = logging.getLogger(__name__)

_IOPRIO_SET = {"x86_64": 251, "aarch64": 30, "i686": 289, "armv7l": 314}  # the syscall's number
_IOPRIO_WHO_PROCESS = 1  # with a thread id: that thread only
_IOPRIO_CLASS_IDLE = 3
_THREAD_MODE_BACKGROUND_BEGIN = 0x00010000


def lower_this_thread() -> None:
    """Lower the CPU and I/O priority of the calling thread (not of the process: the window stays quick)."""
    try:
        if sys.platform.startswith("linux"):
            tid = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, tid, 19)
            number = _IOPRIO_SET.get(platform.machine())
            if number is not None:
                libc = ctypes.CDLL(None, use_errno=True)
                if libc.syscall(number, _IOPRIO_WHO_PROCESS, tid, _IOPRIO_CLASS_IDLE << 13) != 0:
                    logger.info("idle I/O priority refused: errno %d", ctypes.get_errno())
        elif sys.platform == "win32":
            kernel32 = ctypes.WinDLL("kernel32")  # type: ignore[attr-defined]
            kernel32.GetCurrentThread.restype = ctypes.c_void_p
            kernel32.SetThreadPriority.argtypes = (ctypes.c_void_p, ctypes.c_int)
            kernel32.SetThreadPriority(kernel32.GetCurrentThread(), _THREAD_MODE_BACKGROUND_BEGIN)
    except (OSError, AttributeError, ValueError) as exc:
        logger.info("drill priority not lowered: %s", exc)
