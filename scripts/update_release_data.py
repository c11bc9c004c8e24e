#!/usr/bin/env python3
"""Regenerate checks/data/releases.json, the release dates the software checks judge ages by.

Sources (all maintained by others, none typed by hand here):

- browsers: MDN browser-compat-data, ``browsers.<id>.releases.<version>.release_date``
  (``npm pack @mdn/browser-compat-data``, or ``--bcd data.json``);
- LibreOffice: endoflife.date's release-data, ``releases/libreoffice.json`` (one date per
  build, e.g. 24.8.4.2), or ``--libreoffice FILE``;
- Microsoft Office perpetual editions (2016, 2019, 2021, 2024, LTSC) and Microsoft 365:
  endoflife.date's ``products/office.md`` front matter (``releaseCycle``/``releaseDate``),
  or ``--office FILE``;
- Microsoft 365 Apps builds -> first release date: altrhombus/DataForGeeks'
  ``content/ms/msapps/buildnumbers.json`` (a maintained, dated transcription of Microsoft's
  "Update history for Microsoft 365 Apps (by date)": ReleaseDate, Channel, Build, Version per
  row), or ``--m365 FILE``: that JSON, or any text holding "Version 2410 (Build 18129.20158)"
  pairs (then dated by the version's month).

A source that cannot be reached keeps its previous section and metadata, and the script
says so: nothing is invented. Usage::

    python scripts/update_release_data.py            # fetch everything over the network
    python scripts/update_release_data.py --bcd /tmp/package/data.json --libreoffice lo.json
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "checks" / "data" / "releases.json"
BROWSERS = ("firefox", "chrome", "edge", "safari", "opera")
LO_URL = "https://raw.githubusercontent.com/endoflife-date/release-data/main/releases/libreoffice.json"
OFFICE_URL = "https://raw.githubusercontent.com/endoflife-date/endoflife.date/master/products/office.md"
M365_URL = "https://raw.githubusercontent.com/altrhombus/DataForGeeks/main/content/ms/msapps/buildnumbers.json"


# Facts the sources above lack, each with where it comes from; merged over a regenerated
# section so a rerun never loses them.
OFFICE_SUPPLEMENT = {
    # endoflife.date's office.md has no LTSC 2021 cycle; Microsoft's lifecycle page starts
    # "Office LTSC 2021" (Professional Plus / Standard, volume licence) on 2021-09-16.
    "2021-ltsc": "2021-09-16",
}
# Suites no maintained feed covers: release dates from the projects' own announcements
# (Apache OpenOffice news page; ONLYOFFICE Desktop Editors release notes / changelog).
SUITES_BY_HAND = {
    "openoffice": {"4.1.11": "2021-10-06", "4.1.12": "2022-05-04", "4.1.13": "2022-07-22",
                   "4.1.14": "2023-02-27", "4.1.15": "2023-12-22"},
    "onlyoffice": {"7.3": "2023-01-31", "7.4": "2023-06-13", "8.0": "2024-01-30", "8.1": "2024-06-19",
                   "8.2": "2024-10-17"},
}


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=20) as answer:  # noqa: S310 - fixed https URLs
        return answer.read().decode("utf-8")


def browsers_from_bcd(data: dict) -> dict[str, dict[str, str]]:
    tables: dict[str, dict[str, str]] = {}
    for browser in BROWSERS:
        releases = data["browsers"][browser]["releases"]
        tables[browser] = {v: r["release_date"] for v, r in releases.items() if r.get("release_date")}
    return tables


def load_bcd(path: str | None) -> tuple[dict, str]:
    if path:
        return json.loads(Path(path).read_text(encoding="utf-8")), f"file {path}"
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(["npm", "pack", "@mdn/browser-compat-data", "--silent"], cwd=tmp,
                              capture_output=True, text=True, timeout=180, check=True)
        tarball = Path(tmp) / done.stdout.strip().splitlines()[-1]
        with tarfile.open(tarball) as tar:
            member = tar.extractfile("package/data.json")
            assert member is not None
            return json.load(member), f"npm {tarball.name}"


def libreoffice_from_eol(data: dict) -> dict[str, str]:
    return {v: r["date"] for v, r in data.get("versions", {}).items() if r.get("date")}


def office_from_md(text: str) -> dict[str, str]:
    """``releaseCycle``/``releaseDate`` pairs of endoflife.date's YAML front matter."""
    table: dict[str, str] = {}
    cycle = None
    for line in text.split("\n---", 1)[0].splitlines() if text.startswith("---") else text.splitlines():
        m = re.match(r"\s*-?\s*releaseCycle:\s*\"?([^\"#\s]+)", line)
        if m:
            cycle = m.group(1)
            continue
        m = re.match(r"\s*releaseDate:\s*(\d{4}-\d{2}-\d{2})", line)
        if m and cycle:
            table[cycle] = m.group(1)
            cycle = None
    return table


def m365_from_text(text: str) -> dict[str, str]:
    """Build number -> version (YYMM) from any text with "Version 2410 (Build 18129.20158)"."""
    table: dict[str, str] = {}
    for yymm, build in re.findall(r"Version (\d{4}) \(Build (\d{5})\.\d+\)", text):
        table[build] = yymm
    return dict(sorted(table.items()))


def m365_from_dataforgeeks(data: dict) -> dict[str, str]:
    """Build number -> the first day any channel shipped it (the version's first release;
    later minor builds of it are security fixes of the same version)."""
    table: dict[str, str] = {}
    for row in data.get("Data", []):
        build = str(row.get("Build", "")).split(".", 1)[0]
        released = str(row.get("ReleaseDate", ""))[:10]
        if build.isdigit() and re.fullmatch(r"\d{4}-\d{2}-\d{2}", released):
            if build not in table or released < table[build]:
                table[build] = released
    return dict(sorted(table.items(), key=lambda kv: int(kv[0])))


def m365_from_file(text: str) -> dict[str, str]:
    if text.lstrip().startswith("{"):
        return m365_from_dataforgeeks(json.loads(text))
    return {b: f"20{yymm[:2]}-{yymm[2:]}-01" for b, yymm in m365_from_text(text).items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bcd", help="MDN browser-compat-data data.json (default: npm pack)")
    parser.add_argument("--libreoffice", help="endoflife.date release-data libreoffice.json")
    parser.add_argument("--libreoffice-origin", help="where that file came from (recorded)")
    parser.add_argument("--office", help="endoflife.date products/office.md")
    parser.add_argument("--office-origin", help="where that file came from (recorded)")
    parser.add_argument("--m365", help="text holding 'Version YYMM (Build NNNNN.NNNNN)' pairs")
    parser.add_argument("--m365-origin", help="where that text came from (recorded)")
    parser.add_argument("--only", help="regenerate these sections only (comma-separated: "
                        "browsers,libreoffice,office,m365_builds); the others are kept")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)

    out = Path(args.out)
    previous = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {"meta": {}}
    table = dict(previous)
    meta = dict(previous.get("meta", {}))
    problems: list[str] = []

    only = set(args.only.split(",")) if args.only else None

    def section(name: str, produce, origin: str) -> None:
        if only is not None and name not in only:
            return
        try:
            data = produce()
        except Exception as exc:  # any network or format failure keeps the old section
            problems.append(f"{name}: {exc} (kept the previous table)")
            return
        if not data:
            problems.append(f"{name}: the source gave nothing (kept the previous table)")
            return
        table[name] = data
        meta[name] = {"source": origin, "generated_at": _now(), "entries": len(data) if name != "browsers"
                      else {b: len(v) for b, v in data.items()}}

    bcd_origin: list[str] = []

    def browsers():
        data, how = load_bcd(args.bcd)
        bcd_origin.append(f"MDN browser-compat-data {data.get('__meta', {}).get('version', '?')} "
                          f"({data.get('__meta', {}).get('timestamp', '?')}), via {how}")
        return browsers_from_bcd(data)

    section("browsers", browsers, "")
    if "browsers" in meta and bcd_origin:
        meta["browsers"]["source"] = bcd_origin[0]

    lo_origin = args.libreoffice_origin or (f"file {args.libreoffice}" if args.libreoffice else LO_URL)
    section("libreoffice", lambda: libreoffice_from_eol(
        json.loads(Path(args.libreoffice).read_text(encoding="utf-8")) if args.libreoffice
        else json.loads(_fetch(LO_URL))), f"endoflife.date release-data libreoffice.json: {lo_origin}")

    office_origin = args.office_origin or (f"file {args.office}" if args.office else OFFICE_URL)
    section("office", lambda: office_from_md(
        Path(args.office).read_text(encoding="utf-8") if args.office else _fetch(OFFICE_URL)),
        f"endoflife.date products/office.md: {office_origin}")

    m365_origin = args.m365_origin or (f"file {args.m365}" if args.m365 else M365_URL)
    section("m365_builds", lambda: m365_from_file(
        Path(args.m365).read_text(encoding="utf-8") if args.m365 else _fetch(M365_URL)),
        f"Microsoft 365 Apps update history (build -> first release date): {m365_origin}")

    for name, dates in SUITES_BY_HAND.items():
        if only is None or name in only:
            table[name] = dates
            meta[name] = {"source": "typed from the project's release announcements "
                          "(scripts/update_release_data.py SUITES_BY_HAND)", "entries": len(dates)}
    table.setdefault("office", {}).update(OFFICE_SUPPLEMENT)  # additive facts, kept on every run
    meta["note"] = ("Generated by scripts/update_release_data.py; do not edit by hand. "
                    "A version newer than a table's newest entry counts as recent.")
    if problems:
        meta["last_run_problems"] = problems
    else:
        meta.pop("last_run_problems", None)
    table["meta"] = meta
    out.write_text(json.dumps(table, separators=(",", ":"), sort_keys=True) + "\n", encoding="utf-8")
    for problem in problems:
        print("warning:", problem, file=sys.stderr)
    print(f"wrote {out} ({out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
