"""The policy: thresholds the checks judge against, from defaults or a TOML file (--config).

A policy file is flat TOML, every key optional::

    min_screen_width_px = 1024
    max_software_age_days = 730
    min_free_space_gb = 2
    min_bandwidth_mbps = 10
    per_candidate_mbps = 0.5
    # The platform's Pix Companion extension (check pix_companion): its store ids. A centre
    # that deploys another build (a self-hosted copy) adds its id here.
    pix_companion_chromium_ids = ["pgpjajcmfbfdmcgjlbiengidaknopaok"]
    pix_companion_firefox_ids = ["companion@pix.fr"]
"""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.errors import BadInput


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_screen_width_px: int = Field(800, ge=1)
    max_software_age_days: int = Field(730, ge=1)
    min_free_space_gb: float = Field(1.0, ge=0)
    min_bandwidth_mbps: float = Field(2.0, ge=0)
    # What one candidate needs at once; TAO measures 0.16-0.5 Mbit/s per test taker, and
    # Pix questions download attachments and play videos, so we take the upper end.
    per_candidate_mbps: float = Field(0.5, gt=0)
    # Pix Companion's ids: Chrome Web Store (also what Edge installs, through the CRX update
    # URL) and addons.mozilla.org, as the platform's own deployment scripts force them
    # (ExtensionSettings/ExtensionInstallForcelist with these ids; AMO slug "pix-companion").
    pix_companion_chromium_ids: list[str] = Field(default_factory=lambda: ["pgpjajcmfbfdmcgjlbiengidaknopaok"])
    pix_companion_firefox_ids: list[str] = Field(default_factory=lambda: ["companion@pix.fr"])


def load_policy(path: str | Path | None) -> Policy:
    if path is None:
        return Policy()
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput.keyed("input.file_not_found", str(path), "input.policy.hint_file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput.keyed("input.cannot_read", str(path), reason=exc) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = _toml_error_line(str(exc))
        where = f"{path}:{line}" if line else str(path)
        raise BadInput.keyed("input.bad_toml", where, "input.policy.hint_syntax", reason=exc) from None
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"]) or "?"
        line = _key_line(text, key)
        where = f"{path}:{line}" if line else str(path)
        known = ", ".join(Policy.model_fields)
        if err["type"] == "extra_forbidden":
            raise BadInput.keyed("input.policy.unknown_setting", where, "input.policy.known_settings", key=key,
                                  known=known) from None
        default = getattr(Policy(), key, "?")
        raise BadInput.keyed("input.policy.bad_value", where, "input.policy.hint_value", key=key, reason=err["msg"],
                             default=default) from None


def _toml_error_line(message: str) -> int | None:
    m = re.search(r"line (\d+)", message)
    return int(m.group(1)) if m else None


def _key_line(text: str, key: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        if re.match(rf"\s*{re.escape(key)}\s*=", line):
            return number
    return None
