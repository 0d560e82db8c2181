"""Early compression: chunks of a file compressed while another program is still writing it."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import BinaryIO, Self

from wizard.core.archive.deflate import CHUNK_SIZE, deflate_chunk
from wizard.core.archive.writer import ZipWriter

logger = logging.getLogger(__name__)


class EarlyCompression:
    """Compress a file into the member being written while another program is still writing that file
    front to back (the SQLite online backup), so that a core the other program leaves idle does useful work.

    Whole chunks below the file's current size (and below ``end``) are taken, on this one thread, after the
    first ``head`` bytes. Nothing is trusted: ``ZipWriter.write`` keeps a chunk only if the finished file has
    the same CRC there. A chunk that cannot be read just ends the early work.
    Design: docs/design.md, "Archive format and verification".
    """

    def __init__(self, writer: ZipWriter, path: Path, head: int, end: int | None = None):
        self._writer = writer
        self._path = Path(path)
        self._head = head
        self._end = end  # no chunk reaching past this offset is taken
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="early-deflate", daemon=True)
        self.chunks = 0

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> None:
        """End the early work (the chunk being compressed is finished first); a failed write to the
        archive is raised here."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        error, self._error = self._error, None
        if error is not None:
            raise error

    def _run(self) -> None:
        try:
            fh = self._open()
            if fh is None:
                return
            with fh:
                pos = self._head
                while not self._stop.is_set():
                    if self._end is not None and pos + CHUNK_SIZE > self._end:
                        return
                    if os.fstat(fh.fileno()).st_size < pos + CHUNK_SIZE:
                        self._stop.wait(0.005)
                        continue
                    fh.seek(pos)
                    data = fh.read(CHUNK_SIZE)
                    if len(data) != CHUNK_SIZE:
                        return
                    compressed = deflate_chunk(data, False)
                    try:
                        self._writer.add_early(data, compressed)
                    except BaseException as exc:  # noqa: BLE001 - the archive could not be written: stop() raises it
                        self._error = exc
                        return
                    pos += CHUNK_SIZE
                    self.chunks += 1
        except OSError as exc:
            logger.info("early compression of %s stopped: %s", self._path, exc)
        except Exception:  # only a head start: the member is compressed from the finished file anyway
            logger.warning("early compression of %s failed", self._path, exc_info=True)

    def _open(self) -> BinaryIO | None:
        while not self._stop.is_set():
            try:
                return open(self._path, "rb", buffering=0)
            except FileNotFoundError:
                self._stop.wait(0.005)
        return None
