"""How long the HTML outputs take to build, and how big they get, for large inputs.

    python bench/html_render.py

A machine report whose whitelist holds 2,000 URLs, and a room summary of 300 machines (each
with the failing sample checks). Prints milliseconds (best of 5) and sizes; no assertion.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from agent.render.html import render_report_html, render_room_html
from core.report import Report
from core.roomsummary import latest_per_machine

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "reports"


def best_ms(fn, runs: int = 5) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best * 1000


def main() -> None:
    data = json.loads((FIXTURES / "not_ready.json").read_text(encoding="utf-8"))
    whitelist = next(c for c in data["checks"] if c["id"] == "whitelist")
    whitelist["items"] = [dict(item, url=f"{item['url']}?n={n}") for n in range(50) for item in whitelist["items"]]
    big = Report.model_validate(data)
    html = render_report_html(big)
    print(f"machine report, {len(whitelist['items'])} URLs: {best_ms(lambda: render_report_html(big)):.1f} ms, "
          f"{len(html.encode()) / 1024:.0f} KiB")

    sample = Report.model_validate_json((FIXTURES / "not_ready.json").read_text(encoding="utf-8"))
    reports = []
    for n in range(300):
        copy = sample.model_copy(deep=True)
        copy.machine = copy.machine.model_copy(update={"id": f"m-{n:03d}", "hostname": f"SALLE-{n // 20:02d}-P{n % 20:02d}"})
        reports.append(copy)
    rows = latest_per_machine(reports)
    page = render_room_html(rows, "fr")
    print(f"room summary, {len(rows)} machines: {best_ms(lambda: render_room_html(rows, 'fr')):.1f} ms, "
          f"{len(page.encode()) / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
