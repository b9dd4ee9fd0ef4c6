"""Parent side of the TUI benchmarks: run `_tui_probe.py KIND ...` under a pseudo-terminal.

The child gets a real pty (pty.fork: it is its session's controlling terminal, 120x40,
TERM=xterm-256color), and a pipe for the probe's JSON events. Everything the app writes to the
terminal is read from the pty master as it arrives and kept with its arrival time, so bytes per
interval can be counted. Wall times are measured from just before the fork to the event's
time.time() in the child (the same clock).
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import signal
import struct
import sys
import termios
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import BENCH, python_env

PROBE = BENCH / "_tui_probe.py"
SYNC_QUERY = b"\x1b[?2026$p"  # DECRQM: is synchronized output (mode 2026) supported?
SYNC_REPLY = b"\x1b[?2026;2$y"  # DECRPM: yes (recognized, currently reset)
SYNC_START, SYNC_END = b"\x1b[?2026h", b"\x1b[?2026l"
COLUMNS, ROWS = 120, 40
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    kind: str
    pid: int
    spawned: float
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    chunks: list[tuple[float, int]] = field(default_factory=list)  # (arrival, bytes)
    output: bytearray = field(default_factory=bytearray)
    exit_status: int | None = None
    rusage: Any = None
    # Synchronized-output frames (the harness answers Textual's DECRQM 2026 query as a modern
    # terminal does, so every update arrives as BSU ... ESU): (arrival of ESU, bytes, full,
    # the first 120 characters of its text).
    frames: list[tuple[float, int, bool, str]] = field(default_factory=list)

    def first_frame(self) -> float | None:
        """Seconds from spawn until the first full-screen frame had completely arrived."""
        for arrival, _size, full, _text in self.frames:
            if full:
                return arrival - self.spawned
        return None

    def seconds_to(self, event: str) -> float | None:
        info = self.events.get(event)
        return None if info is None else info["t"] - self.spawned

    def bytes_between(self, start: float, end: float) -> int:
        return sum(size for arrival, size in self.chunks if start <= arrival < end)

    def data_between(self, start: float, end: float) -> bytes:
        """What was written in [start, end) (as far as the kept output reaches)."""
        out = bytearray()
        offset = 0
        for arrival, size in self.chunks:
            if start <= arrival < end:
                out += self.output[offset:offset + size]
            offset += size
        return bytes(out)


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of a live process (all its threads), from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat", "rb") as handle:
        text = handle.read().decode()
    fields = text[text.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def proc_status_kb(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


class TuiProcess:
    """One probe child under a pty. Use as a context manager; it is killed on exit."""

    def __init__(self, kind: str, *args: str, env: dict[str, str] | None = None) -> None:
        self.kind = kind
        self.args = args
        self.env = dict(env or python_env())
        self.master = -1
        self.marker = -1
        self.run: Run | None = None
        self._buffer = b""
        self._tail = b""  # the end of the previous terminal chunk, for split sequences
        self._frame: bytearray | None = None

    def __enter__(self) -> TuiProcess:
        read_end, write_end = os.pipe()
        os.set_inheritable(write_end, True)
        env = self.env
        env.update({"TERM": "xterm-256color", "COLORTERM": "truecolor", "LANG": "C.UTF-8",
                    "BENCH_MARKER_FD": str(write_end), "COLUMNS": str(COLUMNS),
                    "LINES": str(ROWS)})
        for key in list(env):
            if key.startswith("TEXTUAL") and key != "TEXTUAL_ANIMATIONS":
                env.pop(key)
        argv = [sys.executable, str(PROBE), self.kind, *self.args]
        spawned = time.time()
        pid, master = pty.fork()
        if pid == 0:  # child
            try:
                os.close(read_end)
                winsize = struct.pack("HHHH", ROWS, COLUMNS, 0, 0)
                fcntl.ioctl(sys.stdout.fileno(), termios.TIOCSWINSZ, winsize)
                os.execve(argv[0], argv, env)
            finally:
                os._exit(127)
        os.close(write_end)
        self.master = master
        self.marker = read_end
        os.set_blocking(master, False)
        os.set_blocking(read_end, False)
        self.run = Run(self.kind, pid, spawned)
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()

    # -- pumping --------------------------------------------------------------------------

    def pump(self, seconds: float) -> None:
        """Read the terminal and the event pipe for `seconds`."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._pump_once(min(left, 0.5))

    def _pump_once(self, timeout: float) -> None:
        assert self.run is not None
        fds = [fd for fd in (self.master, self.marker) if fd >= 0]
        if not fds:
            time.sleep(timeout)
            return
        ready, _, _ = select.select(fds, [], [], timeout)
        now = time.time()
        if self.master in ready:
            try:
                data = os.read(self.master, 65536)
            except OSError:  # EIO: the child closed the terminal
                data = b""
            if data:
                self.run.chunks.append((now, len(data)))
                if len(self.run.output) < 4_000_000:
                    self.run.output.extend(data)
                self._terminal(data, now)
            else:
                os.close(self.master)
                self.master = -1
        if self.marker in ready:
            data = os.read(self.marker, 65536)
            if not data:
                os.close(self.marker)
                self.marker = -1
            self._buffer += data
            while b"\n" in self._buffer:
                line, self._buffer = self._buffer.split(b"\n", 1)
                event = json.loads(line)
                self.run.events.setdefault(event["event"], event)
        if self.master < 0 and self.marker < 0:
            self._reap(block=False)

    def _terminal(self, data: bytes, now: float) -> None:
        """Answer the terminal queries a modern terminal answers; cut the output into frames."""
        assert self.run is not None
        window = self._tail + data
        if SYNC_QUERY in window and SYNC_QUERY not in self._tail:
            os.write(self.master, SYNC_REPLY)
        self._tail = window[-16:]
        rest = data
        while rest:
            if self._frame is None:
                start = rest.find(SYNC_START)
                if start < 0:
                    return
                self._frame = bytearray()
                rest = rest[start + len(SYNC_START):]
                continue
            end = rest.find(SYNC_END)
            if end < 0:
                self._frame += rest
                return
            self._frame += rest[:end]
            frame = bytes(self._frame)
            self.run.frames.append((now, len(frame), b"\x1b[1;1H" in frame and len(frame) > 200,
                                    " ".join(screen_text(frame).split())[:120]))
            self._frame = None
            rest = rest[end + len(SYNC_END):]

    def wait_for(self, event: str, timeout: float) -> dict[str, Any]:
        assert self.run is not None
        deadline = time.monotonic() + timeout
        while event not in self.run.events:
            if time.monotonic() > deadline or not self.alive():
                tail = self.run.output[-1500:].decode("utf-8", "replace")
                raise RuntimeError(
                    f"{self.kind}: no {event!r} within {timeout:.0f}s "
                    f"(alive={self.alive()}); terminal tail:\n{tail}")
            self._pump_once(0.2)
        return self.run.events[event]

    # -- process --------------------------------------------------------------------------

    def alive(self) -> bool:
        assert self.run is not None
        if self.run.exit_status is not None:
            return False
        self._reap(block=False)
        return self.run.exit_status is None

    def _reap(self, block: bool) -> None:
        assert self.run is not None
        if self.run.exit_status is not None:
            return
        pid, status, rusage = os.wait4(self.run.pid, 0 if block else os.WNOHANG)
        if pid:
            self.run.exit_status = status
            self.run.rusage = rusage

    def cpu_seconds(self) -> float:
        assert self.run is not None
        return proc_cpu_seconds(self.run.pid)

    def peak_rss_kb(self) -> int:
        assert self.run is not None
        return proc_status_kb(self.run.pid, "VmHWM")

    def kill(self) -> None:
        if self.run is None:
            return
        if self.run.exit_status is None:
            try:
                os.kill(self.run.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self._reap(block=True)
        for fd in (self.master, self.marker):
            if fd >= 0:
                os.close(fd)
        self.master = self.marker = -1


def tui_available() -> bool:
    return (Path(__file__).resolve().parents[1] / "tui" / "app.py").exists()


def screen_text(output: bytes | bytearray) -> str:
    """The printable text of terminal output (escape sequences dropped), for sanity checks."""
    import re

    text = bytes(output).decode("utf-8", "replace")
    return re.sub(r"\x1b(\[[0-9;?<>=$ ]*[A-Za-z~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][A-Z0-9]|.)",
                  "", text)
