"""The exit codes of every ``examroom`` command (CONTRACT section 1), defined once."""
from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0             # success; the machine (or every machine of the room) is ready
    NOT_READY = 1      # ran fine, but the machine or the room is not ready
    BAD_INPUT = 2      # bad usage or input: one line on stderr, never a traceback
    UNREACHABLE = 3    # the supervisor server could not be reached
    INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT, as shells report it
