"""What ``examroom check`` was asked: built by the click callbacks of ``agent/cli.py`` (each
flag stores its value here once, converted), read by ``agent/commands.py``."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import click

from checks.base import CheckOptions


@dataclass
class CheckRequest:
    only: str | None = None            # raw ids: parsed once every flag (and --lang) is known
    skip: str | None = None
    json_path: str | None = None       # "-": stdout
    html_path: str | None = None
    config_path: str | None = None
    lang: str = "en"
    server: str | None = None
    room: str | None = None
    ca_file: str | None = None
    gui: bool = False
    options: CheckOptions = field(default_factory=CheckOptions)   # what the checks receive


def into(name: str, convert: Callable[[Any], Any] | None = None):
    """A click callback that stores the option's value in the command's CheckRequest, at
    ``name`` ("json_path", or "options.storage" for a field of CheckOptions), converted by
    ``convert`` when it is not None. Use with ``expose_value=False``."""
    def store(ctx: click.Context, _param: click.Parameter, value: Any) -> Any:
        request = ctx.ensure_object(CheckRequest)
        target: object = request
        field_name = name
        if name.startswith("options."):
            target, field_name = request.options, name.split(".", 1)[1]
        setattr(target, field_name, convert(value) if convert is not None and value is not None else value)
        return value
    return store
