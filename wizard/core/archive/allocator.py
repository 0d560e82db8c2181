"""Tune glibc's allocator once for the chunk buffers in flight; nothing to do on other C libraries."""

from __future__ import annotations

import platform
import sys

from wizard.core.archive.deflate import CHUNK_SIZE

_allocator_tuned = False


def keep_freed_buffers() -> None:
    """On glibc, keep freed chunk buffers for the next ones instead of handing them back to the kernel:
    far fewer page faults per GiB backed up, memory still bounded by what is in flight (figures:
    docs/design.md, "Archive format and verification")."""
    global _allocator_tuned
    if _allocator_tuned:
        return
    _allocator_tuned = True  # decided once: without glibc, libc_ver() scans the whole executable
    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc":
        return  # Windows, macOS, musl: mallopt is glibc's
    try:
        import ctypes  # here, not at the top: only glibc needs it

        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    mallopt(m_mmap_threshold, 8 * CHUNK_SIZE)  # chunk buffers come from the heap, not from mmap
    mallopt(m_trim_threshold, 256 << 20)  # and the heap is not shrunk after each of them
