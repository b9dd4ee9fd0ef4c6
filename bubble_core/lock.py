"""The collector lock: at most one process polls the sources into a given store.

An advisory `flock` on `<store>.collector.lock`, released by the kernel when the process dies
(so a `kill -9` never leaves a stale lock). The file holds the owner's pid for messages.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class CollectorLock:
    def __init__(self, store_path: Path) -> None:
        self.path = Path(str(store_path) + ".collector.lock")
        self._fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock without waiting; False if another process holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return True

    def owner_pid(self) -> int | None:
        try:
            text = self.path.read_text().strip()
        except OSError:
            return None
        return int(text) if text.isdigit() else None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
