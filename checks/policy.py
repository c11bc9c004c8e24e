"""The policy: thresholds the checks judge against, from defaults or a TOML file (--config).

A policy file is flat TOML, every key optional::

    min_screen_width_px = 1024
    max_software_age_days = 730
    min_free_space_gb = 2
    min_bandwidth_mbps = 10
    per_candidate_mbps = 0.5
"""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from checks.errors import BadInput


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_screen_width_px: int = Field(800, ge=1)
    max_software_age_days: int = Field(730, ge=1)
    min_free_space_gb: float = Field(1.0, ge=0)
    min_bandwidth_mbps: float = Field(2.0, ge=0)
    # What one candidate needs at once; TAO measures 0.16-0.5 Mbit/s per test taker, and
    # Pix questions download attachments and play videos, so we take the upper end.
    per_candidate_mbps: float = Field(0.5, gt=0)


def load_policy(path: str | Path | None) -> Policy:
    if path is None:
        return Policy()
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput("file not found", str(path), "give the path of a TOML policy file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read the file: {exc}", str(path)) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = _toml_error_line(str(exc))
        where = f"{path}:{line}" if line else str(path)
        raise BadInput(f"not valid TOML: {exc}", where, "fix the syntax, e.g. key = 800") from None
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"]) or "?"
        line = _key_line(text, key)
        where = f"{path}:{line}" if line else str(path)
        known = ", ".join(Policy.model_fields)
        if err["type"] == "extra_forbidden":
            raise BadInput(f"unknown setting {key!r}", where, f"known settings: {known}") from None
        raise BadInput(f"bad value for {key!r}: {err['msg']}", where, "see the defaults in the README") from None


def _toml_error_line(message: str) -> int | None:
    m = re.search(r"line (\d+)", message)
    return int(m.group(1)) if m else None


def _key_line(text: str, key: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        if re.match(rf"\s*{re.escape(key)}\s*=", line):
            return number
    return None
