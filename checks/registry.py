"""Where the code of each check id lives (the ids themselves are ``core.result.CHECK_IDS``)."""
from __future__ import annotations

import importlib
from types import ModuleType

from core.result import CHECK_IDS


def check_module(check_id: str) -> ModuleType:
    if check_id not in CHECK_IDS:
        raise KeyError(check_id)
    return importlib.import_module(f"checks.{check_id}")


def parse_ids(text: str | None) -> list[str]:
    """``"browser, screen"`` -> ``["browser", "screen"]``; unknown ids raise ValueError."""
    if not text:
        return []
    ids = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [i for i in ids if i not in CHECK_IDS]
    if unknown:
        raise ValueError(", ".join(unknown))
    return ids
