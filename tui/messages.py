"""Messages the backend worker posts to the app (thread-safe `post_message`).

The worker only retrieves; the app's handlers update widgets on the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    from bubble_core.runtime import ModeInfo
    from bubble_core.snapshot import Snapshot



@dataclass
class SnapshotReady(Message):
    """A snapshot from `backend.snapshot()` (ticked=False) or `backend.tick()` (ticked=True)."""

    snapshot: Snapshot
    mode: ModeInfo | None
    ticked: bool


@dataclass
class BackendFailed(Message):
    """A backend call raised (tick() should not, but the store can be busy or broken)."""

    what: str
    error: str


@dataclass
class JobDone(Message):
    """A queued backend job finished: a silence or a replay control."""

    label: str
    result: Any = None
    error: str | None = None


@dataclass
class CycleFinished(Message):
    """The worker's last word: when the backend wants the next tick (seconds from now)."""

    next_in: float
