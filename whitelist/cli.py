"""``examroom whitelist show [FILE]`` and ``examroom whitelist import FILE.xlsx -o FILE.toml``."""
from __future__ import annotations

from pathlib import Path

import click

from core.i18n import detect_lang, t
from core.errors import BadInput
from whitelist.load import load, to_toml


def _lang(lang: str | None) -> str:
    return lang or detect_lang()


@click.group()
def whitelist() -> None:
    """Show or import the list of sites candidates must reach."""


@whitelist.command()
@click.argument("file", required=False)
@click.option("--lang", type=click.Choice(["fr", "en"]), default=None, help="Language of the output.")
def show(file, lang) -> None:
    """Print the whitelist that 'check' would use (bundled, or FILE)."""
    lang = _lang(lang)
    entries = load(Path(file) if file else None)
    source = file or t("whitelist.show.bundled", lang)
    required = sum(1 for e in entries if e.required)
    click.echo(t("whitelist.show.header", lang, source=source, count=len(entries), required=required))
    click.echo("")
    width = max(len(e.url) for e in entries)
    for e in entries:
        flag = t("whitelist.show.required" if e.required else "whitelist.show.optional", lang)
        line = f"  {e.url.ljust(width)}  {flag:<14} {e.category}"
        click.echo(line.rstrip())
        if e.note:
            click.echo(f"  {'':{width}}  {e.note}")
    from core.host import Host
    from whitelist.proxy import detect

    # Only what the machine's settings say; a PAC file is named, not fetched, to stay offline.
    settings = detect(Host.current(), fetch_pac=False)
    click.echo("")
    click.echo(t("whitelist.show.proxy", lang, proxy=settings.describe()))


@whitelist.command(name="import")
@click.argument("file")
@click.option("-o", "--output", required=True, metavar="FILE.toml", help="Where to write the TOML list.")
@click.option("--lang", type=click.Choice(["fr", "en"]), default=None, help="Language of the output.")
def import_(file, output, lang) -> None:
    """Convert a spreadsheet (.xlsx) list into the TOML format."""
    lang = _lang(lang)
    source = Path(file)
    if source.suffix.lower() not in (".xlsx", ".txt", ".toml"):
        raise BadInput.keyed("input.import.not_xlsx", str(source), "input.xlsx.hint")
    entries = load(source)
    target = Path(output)
    if target.suffix.lower() != ".toml":
        raise BadInput.keyed("input.import.not_toml", str(target), "input.import.hint_toml")
    for e in entries:
        e.source = e.source or source.name
    try:
        target.write_text(to_toml(entries), encoding="utf-8")
    except OSError as exc:
        raise BadInput.keyed("cli.cannot_write", str(target), "cli.choose_other_path", reason=exc.strerror or exc) from None
    click.echo(t("whitelist.import.done", lang, count=len(entries), path=target))
