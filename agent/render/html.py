"""Self-contained HTML: one machine's report (``check --html``) and a room summary (``report merge``).

Reads only a Report (or the room's MachineRows) and the templates beside this module
(``templates/*.html``, ``report.css``, ``sort.js``), filled with ``string.Template``: one
template system for both pages, no dependency. The output has inline CSS and no external
asset, so it opens offline, prints on A4, and reads without scripts (the only script sorts
the whitelist table on a header click; rows are already grouped by reason). Every value
that comes from a report is escaped: summaries and item details may contain ``<``.
"""
from __future__ import annotations

import json
from functools import lru_cache
from html import escape
from pathlib import Path
from string import Template
from typing import Any, Iterable

from core import __version__
from core.i18n import fmt_date, fmt_datetime, fmt_number, has, t
from core.report import Report
from core.roomsummary import MachineRow, check_title
from core.result import CHECK_IDS
from core.result import CheckResult, Item, Status

_TEMPLATES = Path(__file__).parent / "templates"
MARKS = {Status.ok: "✔", Status.warn: "⚠", Status.fail: "✖", Status.error: "!", Status.skip: "–"}
# The contract's whitelist reasons, worst-to-fix first: the default order of the table.
REASONS = ("blocked", "proxy_auth_required", "tls_intercepted", "dns_failed", "connect_failed",
           "timeout", "tls_error", "http_error", "ok")
_ITEM_BASE = ("name", "version", "released", "status", "detail")
_URL_COLUMNS = ("reason", "url", "status", "ip", "latency_ms", "http_status")


@lru_cache(maxsize=None)
def _template(name: str) -> Template:
    return Template((_TEMPLATES / name).read_text(encoding="utf-8"))


def _asset(name: str) -> str:
    return (_TEMPLATES / name).read_text(encoding="utf-8")


def esc(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def badge(status: Status, lang: str) -> str:
    return (f'<span class="badge badge-{status.value}"><span aria-hidden="true">{MARKS[status]}</span> '
            f'{esc(t(f"status.{status.value}", lang))}</span>')


def page(*, lang: str, title: str, body: str, kind: str, toolbar: str = "", script: str = "",
         with_footer: bool = True) -> str:
    footer = esc(t("report.footer", lang, version=__version__)) if with_footer else ""
    return _template("page.html").substitute(
        lang=esc(lang), version=esc(__version__), title=esc(title), css=_asset("report.css"), body=body,
        kind=kind, toolbar=toolbar, footer=footer, script=script)


# --- one machine -----------------------------------------------------------------------------

def verdict_key(report: Report) -> tuple[str, str]:
    """(translation key, css class) of the verdict; the same rule as the terminal's."""
    if not report.ready:
        return "verdict.not_ready", "not-ready"
    if any(c.status == Status.warn for c in report.ran()):
        return "verdict.ready_with_warnings", "warn"
    return "verdict.ready", "ready"


def _top(*, heading: str, when: str, verdict_class: str, verdict_mark: str, verdict_words: str,
         counts: str, live: bool = False) -> str:
    """The page's heading and verdict box, shared by the machine report and the room summary."""
    return _template("top.html").substitute(
        heading=esc(heading), when=esc(when), verdict_class=verdict_class, verdict_mark=verdict_mark,
        verdict_words=esc(verdict_words), counts=esc(counts), live=' aria-live="polite"' if live else "")


def render_report_html(report: Report, *, toolbar: str = "", script: str = "") -> str:
    """The whole page for one machine, in the report's language.

    ``toolbar`` (trusted HTML) and ``script`` let the window add its buttons.
    """
    lang = report.lang if report.lang in ("fr", "en") else "en"
    key, css = verdict_key(report)
    counts = {s: sum(1 for c in report.ran() if c.status == s) for s in Status}
    body = _template("machine.html").substitute(
        # aria-live: the window re-renders this page when the test is run again
        top=_top(heading=t("report.heading", lang, hostname=report.machine.hostname),
                 when=t("report.when", lang, when=fmt_datetime(report.finished_at, lang)),
                 verdict_class=css, verdict_mark={"ready": "✔", "warn": "⚠"}.get(css, "✖"),
                 verdict_words=t(key, lang), live=True,
                 counts=t("cli.summary_counts", lang, ok=counts[Status.ok], warn=counts[Status.warn],
                          bad=counts[Status.fail] + counts[Status.error], skip=counts[Status.skip])),
        todo=_todo(report.ran(), lang),
        facts_heading=esc(t("report.facts", lang)), facts_rows=_facts(report, lang),
        overview_heading=esc(t("report.overview", lang)),
        col_check=esc(t("report.col.check", lang)), col_status=esc(t("report.col.status", lang)),
        col_summary=esc(t("report.col.summary", lang)), col_duration=esc(t("report.col.duration", lang)),
        overview_rows="\n".join(
            f'<tr><td><a href="#check-{esc(c.id)}">{esc(c.title)}</a></td><td>{badge(c.status, lang)}</td>'
            f'<td>{esc(c.summary)}</td><td class="num">{esc(fmt_number(c.duration_s, lang))} s</td></tr>'
            for c in report.ran())
        + (f'\n<tr class="not-run"><td colspan="4" class="muted">'
           f'{esc(t("cli.not_run", lang, checks=", ".join(report.not_run)).strip())}</td></tr>'
           if report.not_run else ""),
        checks="\n".join(_check(c, lang) for c in report.ran()),
    )
    sortable = any(_is_url_list(c.items) for c in report.ran())
    return page(lang=lang, title=t("report.title", lang, hostname=report.machine.hostname), body=body,
                kind="machine-report", toolbar=toolbar,
                script=(_asset("sort.js") if sortable else "") + script)


def write_report_html(report: Report, path: str | Path) -> None:
    Path(path).write_text(render_report_html(report), encoding="utf-8")


def _todo(checks: Iterable[CheckResult], lang: str) -> str:
    todo = sorted((c for c in checks if c.status in (Status.fail, Status.error, Status.warn)),
                  key=lambda c: -c.status.severity)
    if not todo:
        return ""
    items = "\n".join(
        f'<li>{badge(c.status, lang)} <b>{esc(c.title)}</b> : {esc(c.remediation or c.summary)}</li>'
        if lang == "fr" else
        f'<li>{badge(c.status, lang)} <b>{esc(c.title)}</b>: {esc(c.remediation or c.summary)}</li>'
        for c in todo)
    return (f'<section class="todo todo-{todo[0].status.value}"><h2>{esc(t("cli.remediations", lang))}</h2>\n'
            f'<ol>\n{items}\n</ol></section>')


def _facts(report: Report, lang: str) -> str:
    machine = report.machine.model_dump()
    rows: list[tuple[str, str]] = [
        (t("report.fact.hostname", lang), machine.pop("hostname")),
        (t("report.fact.id", lang), machine.pop("id")),
        (t("report.fact.os", lang), f"{machine.pop('os')} {machine.pop('os_version', '')}".strip()),
        (t("report.fact.arch", lang), machine.pop("arch", "")),
    ]
    for name, value in machine.items():
        label = t(f"report.fact.{name}", lang) if has(f"report.fact.{name}") else name
        if isinstance(value, str) and (name.endswith("_time") or name.endswith("_at")):
            value = fmt_datetime(value, lang)
        rows.append((label, _value(value, lang)))
    rows += [(t("report.fact.started", lang), fmt_datetime(report.started_at, lang)),
             (t("report.fact.finished", lang), fmt_datetime(report.finished_at, lang)),
             (t("report.fact.agent", lang), f"examroom {report.agent_version}")]
    return "\n".join(f'      <tr><th scope="row">{esc(k)}</th><td>{esc(v)}</td></tr>' for k, v in rows if v != "")


def _value(value: Any, lang: str) -> str:
    if isinstance(value, bool):
        return t("summary.yes", lang) if value else t("summary.no", lang)
    if isinstance(value, float):
        return fmt_number(value, lang)
    if isinstance(value, int):
        return fmt_number(value, lang, 0)
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return ", ".join(_value(v, lang) for v in value)
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)


def _unit(unit: str | None, lang: str) -> str:
    if not unit:
        return ""
    return t(f"report.unit.{unit}", lang) if has(f"report.unit.{unit}") else unit


def _figure(value: float, unit: str | None, lang: str) -> str:
    digits = 0 if unit == "px" or float(value).is_integer() else 1
    return f"{fmt_number(value, lang, digits)} {_unit(unit, lang)}".strip()


def _check(check: CheckResult, lang: str) -> str:
    figures = ""
    if check.measured is not None or check.threshold is not None:
        parts = []
        if check.measured is not None:
            parts.append(f'<div>{esc(t("report.measured", lang))} <b>{esc(_figure(check.measured, check.unit, lang))}</b></div>')
        if check.threshold is not None:
            parts.append(f'<div>{esc(t("report.threshold", lang))} <b>{esc(_figure(check.threshold, check.unit, lang))}</b></div>')
        figures = '  <div class="figures">' + "".join(parts) + "</div>"
    remediation = ""
    if check.remediation and check.status not in (Status.ok, Status.skip):
        remediation = (f'  <p class="remediation"><b>{esc(t("report.what_to_do", lang))}</b> '
                       f'{esc(check.remediation)}</p>')
    long_list = _is_url_list(check.items)
    items = _url_table(check.items, lang) if long_list else _item_table(check.items, lang)
    return _template("check.html").substitute(
        id=esc(check.id), status=check.status.value, extra_class="check-long" if len(check.items) > 15 else "",
        title=esc(check.title), badge=badge(check.status, lang), summary=esc(check.summary),
        figures=figures, remediation=remediation, items=items)


def _is_url_list(items: list[Item]) -> bool:
    return bool(items) and all(getattr(i, "url", None) for i in items)


def _extras(items: list[Item], known: Iterable[str]) -> list[str]:
    """Extra item fields worth a column: those the table has a heading for, with a value.

    Internal identifiers (``kind``, ``how``...) stay in the JSON report: a technician
    reading the page gets only columns in their language.
    """
    seen: dict[str, None] = {}
    for item in items:
        for key, value in (item.model_extra or {}).items():
            if key not in known and value is not None and has(f"report.col.{key}"):
                seen.setdefault(key, None)
    return list(seen)


def _label(column: str, lang: str) -> str:
    return t(f"report.col.{column}", lang) if has(f"report.col.{column}") else column


def _cell(item: Item, column: str, lang: str) -> str:
    value = getattr(item, column, None)
    if column == "status":
        return f'<td data-sort="{9 - item.status.severity}">{badge(item.status, lang)}</td>'
    if column == "released":
        return f'<td data-sort="{esc(value)}">{esc(fmt_date(value, lang))}</td>'
    if column == "reason":
        order = REASONS.index(value) if value in REASONS else len(REASONS)
        label = reason_label(value, lang)
        return f'<td data-sort="{order:02d}">{esc(label)}</td>'
    if column == "latency_ms" and isinstance(value, (int, float)):
        return f'<td class="num" data-sort="{value}">{esc(fmt_number(value, lang, 0))} ms</td>'
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f'<td class="num" data-sort="{value}">{esc(_value(value, lang))}</td>'
    css = ' class="url"' if column == "url" else ""
    return f"<td{css}>{esc(_value(value, lang))}</td>"


def reason_label(reason: str, lang: str) -> str:
    """A whitelist reason as a heading: the one name the terminal also uses (reason.*), capitalised."""
    if not has(f"reason.{reason}"):
        return reason
    text = t(f"reason.{reason}", lang)
    return text[:1].upper() + text[1:]


def _table(items: list[Item], columns: list[str], lang: str, css: str) -> str:
    head = "".join(f'<th scope="col">{esc(_label(c, lang))}</th>' for c in columns)
    rows = "\n".join(f'<tr class="row-{i.status.value}">' + "".join(_cell(i, c, lang) for c in columns) + "</tr>"
                     for i in items)
    return f'  <table class="{css}">\n<thead><tr>{head}</tr></thead>\n<tbody>\n{rows}\n</tbody>\n</table>'


def _item_table(items: list[Item], lang: str) -> str:
    if not items:
        return ""
    columns = [c for c in _ITEM_BASE if c == "name" or any(getattr(i, c) is not None for i in items)]
    return _table(items, columns + _extras(items, _ITEM_BASE), lang, "grid items")


def _url_table(items: list[Item], lang: str) -> str:
    """The whitelist: grouped by reason (problems first), with a count per reason above."""
    def order(item: Item) -> tuple[int, str]:
        reason = getattr(item, "reason", None)
        return (REASONS.index(reason) if reason in REASONS else len(REASONS), str(getattr(item, "url", "")))

    ordered = sorted(items, key=order)
    counts: dict[str, int] = {}
    for item in ordered:
        reason = str(getattr(item, "reason", None) or "?")
        counts[reason] = counts.get(reason, 0) + 1
    tally = "".join(
        f'<li><b>{n}</b> × {esc(reason_label(r, lang))}</li>'
        for r, n in counts.items())
    known = set(_URL_COLUMNS) | {"name", "host"}
    columns = [c for c in _URL_COLUMNS
               if c in ("reason", "url", "status") or any(getattr(i, c, None) is not None for i in ordered)]
    columns += _extras(ordered, known)
    if any(i.detail for i in ordered):
        columns.append("detail")
    hint = f'<p class="muted no-print">{esc(t("report.sort_hint", lang))}</p>'
    return f'  <ul class="reasons">{tally}</ul>\n  {hint}\n' + _table(ordered, columns, lang, "grid sortable urls")


# --- a room ----------------------------------------------------------------------------------

def render_room_html(rows: list[MachineRow], lang: str, *, room: str | None = None) -> str:
    """The room summary: a machine × check table of statuses, then what to do per machine."""
    ready = sum(1 for r in rows if r.ready)
    all_ready = bool(rows) and ready == len(rows)
    ids = [i for i in CHECK_IDS if any(i in r.checks for r in rows)]
    head = (f'<th scope="col">{esc(t("summary.col.hostname", lang))}</th>'
            f'<th scope="col">{esc(t("summary.col.ready", lang))}</th>'
            + "".join(f'<th scope="col" title="{esc(t(f"check.{i}.title", lang))}">{esc(t(f"report.short.{i}", lang))}</th>'
                      for i in ids)
            + f'<th scope="col">{esc(t("summary.col.report_at", lang))}</th>')
    grid = []
    for row in rows:
        shown = Status.ok if row.ready else Status.warn if row.partial else Status.fail
        verdict = badge(shown, lang).replace(esc(t(f"status.{shown.value}", lang)), esc(row.ready_word(lang)))
        cells = "".join(f"<td>{badge(row.checks[i].status, lang)}</td>" if i in row.checks else "<td></td>"
                        for i in ids)
        grid.append(f'<tr><th scope="row"><a href="#m-{esc(row.machine_id)}">{esc(row.label or row.hostname)}</a><br>'
                    f'<span class="muted">{esc(f"{row.os} {row.os_version}".strip())}</span></th>'
                    f"<td>{verdict}</td>{cells}<td>{esc(fmt_datetime(row.report_at, lang))}</td></tr>")
    todo = [_machine_todo(r, lang) for r in rows if r.problems or r.partial]
    clean = [r.label or r.hostname for r in rows if not r.problems and not r.partial]
    if clean:
        todo.append(f'<p>{esc(t("report.room.nothing_to_do", lang, machines=", ".join(clean)))}</p>')
    title = t("report.room.title", lang, room=room) if room else t("report.room.title_plain", lang)
    body = _template("room.html").substitute(
        top=_top(heading=title, when=t("report.when", lang, when=fmt_datetime(_newest(rows), lang)),
                 verdict_class="ready" if all_ready else "not-ready", verdict_mark="✔" if all_ready else "✖",
                 verdict_words=t("report.room.ready" if all_ready else "report.room.not_ready", lang),
                 counts=t("report.room.counts", lang, ready=ready, total=len(rows))),
        grid_heading=esc(t("report.room.grid", lang)), grid_head=head, grid_rows="\n".join(grid),
        legend=f'{esc(t("report.room.legend", lang))} <span class="no-print">{esc(t("report.room.hover", lang))}</span>',
        todo_heading=esc(t("report.room.todo", lang)), todo="\n".join(todo),
    )
    return page(lang=lang, title=title, body=body, kind="room-summary")


def _newest(rows: list[MachineRow]) -> str | None:
    return max((r.report_at for r in rows), default=None)


def _machine_todo(row: MachineRow, lang: str) -> str:
    sep = " : " if lang == "fr" else ": "
    items = "\n".join(
        f'<li>{badge(c.status, lang)} <b>{esc(check_title(c, lang))}</b>{sep}{esc(c.summary)}'
        + (f'<br><span class="remediation-line">→ {esc(c.remediation)}</span>' if c.remediation else "")
        + "</li>" for c in row.problems)
    if row.partial:   # what the technician must still run before the machine counts as ready
        items += (f'\n<li>{badge(Status.skip, lang)} <b>{esc(t("summary.partial_title", lang))}</b>{sep}'
                  f'{esc(", ".join(row.not_run))}<br><span class="remediation-line">→ '
                  f'{esc(t("summary.partial_fix", lang))}</span></li>')
    state = t("summary.col.ready", lang) + sep + row.ready_word(lang)
    css = "ok" if row.ready else "warn" if row.partial else "fail"
    return (f'<div class="machine-todo" id="m-{esc(row.machine_id)}"><h3>{esc(row.label or row.hostname)} '
            f'<span class="badge badge-{css}">{esc(state)}</span></h3>\n'
            f"<ul>\n{items.lstrip()}\n</ul></div>")
