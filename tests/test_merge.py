"""``examroom report merge``: the real command in a subprocess, on the sample room of five machines."""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "reports"
ROOM = FIXTURES / "room"


def examroom(*args: str, lang: str = "fr") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES")}
    env["LANG"] = "fr_FR.UTF-8" if lang == "fr" else "en_US.UTF-8"
    return subprocess.run([sys.executable, "-m", "agent", "report", "merge", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_terminal_table_from_a_folder_in_french_exit_1_when_a_machine_is_not_ready():
    done = examroom(str(ROOM))
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[:3] == ["Poste", "Prêt", "Dernier"]
    rows = [line for line in lines if line.startswith("SALLE-B12-P")]
    assert [r.split()[0] for r in rows] == [f"SALLE-B12-P0{n}" for n in range(1, 6)]
    assert rows[1].split()[1] == "non" and rows[0].split()[1] == "oui"
    assert "22 novembre 2026" in rows[3]
    assert "Branchez une souris USB" not in done.stdout, "the newer report of P04 wins"
    assert "Réglez la résolution à 1024 × 768 ou plus" in done.stdout
    assert lines[-1] == "3 poste(s) prêt(s) sur 5"


def test_html_and_csv_files(tmp_path):
    html, table = tmp_path / "salle.html", tmp_path / "salle.csv"
    done = examroom(*sorted(str(p) for p in ROOM.glob("*.json")), "--html", str(html), "--csv", str(table),
                    "--room", "B12")
    assert done.returncode == 1, done.stderr
    assert f"Synthèse HTML écrite dans {html}" in done.stdout
    page = html.read_text(encoding="utf-8")
    assert '<html lang="fr">' in page and "Salle B12 : synthèse des postes" in page
    assert "Salle NON PRÊTE pour la certification" in page
    raw = table.read_bytes()
    assert raw.startswith("\ufeff".encode()) and not raw.startswith(("\ufeff" * 2).encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "Poste" and len(rows) == 6
    assert [r[3] for r in rows[1:]] == ["oui", "non", "oui", "non", "oui"]
    # French typography in the « À faire » column: a space before the colon
    assert "Largeur d'écran : Réglez la résolution" in rows[4][-1] and "écran:" not in rows[4][-1]


def test_english_and_every_machine_ready_is_exit_0(tmp_path):
    for name in ("SALLE-B12-P01.json", "SALLE-B12-P03.json"):
        shutil.copy(ROOM / name, tmp_path / name)
    done = examroom(str(tmp_path), "--lang", "en")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].split()[:2] == ["Machine", "Ready"]
    assert done.stdout.splitlines()[-1] == "2 of 2 machine(s) ready"


def test_reports_saved_by_windows_tools_are_read(tmp_path):
    text = (ROOM / "SALLE-B12-P01.json").read_text(encoding="utf-8")
    (tmp_path / "notepad.json").write_bytes("\ufeff".encode() + text.encode())
    # Windows PowerShell 5: `examroom check --json - > p03.json` is UTF-16 with a BOM.
    (tmp_path / "powershell.json").write_bytes((ROOM / "SALLE-B12-P03.json").read_text(encoding="utf-8")
                                                .encode("utf-16"))
    done = examroom(str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "2 poste(s) prêt(s) sur 2"


def test_a_file_in_another_encoding_is_bad_input(tmp_path):
    latin = tmp_path / "latin1.json"
    latin.write_bytes((ROOM / "SALLE-B12-P01.json").read_text(encoding="utf-8").encode("latin-1", "replace"))
    line = _bad(examroom(str(latin)))
    assert line.startswith(f"examroom: {latin}: impossible de lire le fichier")


def _bad(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_malformed_json_names_the_file_and_line(tmp_path):
    broken = tmp_path / "p07.json"
    text = (ROOM / "SALLE-B12-P01.json").read_text(encoding="utf-8")
    head = text.splitlines()[:15]
    broken.write_text("\n".join(head) + "\n,,oops\n", encoding="utf-8")
    line = _bad(examroom(str(ROOM / "SALLE-B12-P01.json"), str(broken)))
    expected_line = 16
    assert line.startswith(f"examroom: {broken}:{expected_line}: ce n'est pas du JSON valide"), line
    assert "examroom check --json" in line


def test_a_file_that_is_not_a_report(tmp_path):
    other = tmp_path / "liste.json"
    other.write_text(json.dumps({"url": "https://pix.fr"}), encoding="utf-8")
    line = _bad(examroom(str(other)))
    assert str(other) in line and "examroom.report/1" in line


def test_a_damaged_field_names_the_file_line_and_field(tmp_path):
    data = json.loads((ROOM / "SALLE-B12-P04.json").read_text(encoding="utf-8"))
    data["checks"][2]["status"] = "maybe"
    damaged = tmp_path / "p04.json"
    damaged.write_text(json.dumps(data, indent=2), encoding="utf-8")
    line = _bad(examroom(str(damaged), "--lang", "en"))
    assert line.startswith(f"examroom: {damaged}:"), line
    assert "field checks.2.status" in line
    number = int(line.split(":")[2])
    lines = damaged.read_text().splitlines()
    assert lines[number - 1].strip() == '"status": "maybe",'
    assert number > lines.index('  "checks": [') + 1


def test_missing_file_empty_folder_and_unwritable_output(tmp_path):
    assert str(tmp_path / "nope.json") in _bad(examroom(str(tmp_path / "nope.json")))
    empty = tmp_path / "vide"
    empty.mkdir()
    assert "aucun rapport .json" in _bad(examroom(str(empty)))
    line = _bad(examroom(str(ROOM), "--csv", str(tmp_path / "no" / "such" / "dir" / "x.csv")))
    assert "impossible d'écrire le fichier" in line


def test_a_room_mixing_languages_is_summarised_in_one(tmp_path):
    shutil.copy(ROOM / "SALLE-B12-P04.json", tmp_path / "p04.json")
    shutil.copy(FIXTURES / "ready_with_warnings_en.json", tmp_path / "mac.json")
    done = examroom(str(tmp_path), "--lang", "fr", "--html", str(tmp_path / "s.html"))
    page = (tmp_path / "s.html").read_text(encoding="utf-8")
    assert "<b>Navigateur récent</b>" in page and "<b>Recent browser</b>" not in page
    assert done.returncode == 1


def _as(source: Path, target: Path, machine_id: str, hostname: str) -> None:
    data = json.loads(source.read_text(encoding="utf-8"))
    data["machine"].update(id=machine_id, hostname=hostname)
    target.write_text(json.dumps(data), encoding="utf-8")


def test_machines_sharing_a_host_name_are_told_apart(tmp_path):
    """Cloned lab images: three machines named "vm" read as three different rows everywhere."""
    ids = ["3f2a91c0d4e5b6a7", "3f2b07aa11223344", "9c01ffee55667788"]
    for n, machine_id in enumerate(ids):
        _as(ROOM / ("SALLE-B12-P02.json" if n == 1 else "SALLE-B12-P01.json"), tmp_path / f"{n}.json", machine_id, "vm")
    done = examroom(str(tmp_path))
    names = ["vm · 3f2a", "vm · 3f2b", "vm · 9c01"]
    rows = [line for line in done.stdout.splitlines() if line.startswith("vm")]
    assert [r.split("  ")[0] for r in rows] == names, done.stdout
    assert "  vm · 3f2b" in done.stdout.splitlines()     # the "what to do" part names the right one
    html, table = tmp_path / "s.html", tmp_path / "s.csv"
    examroom(str(tmp_path), "--html", str(html), "--csv", str(table))
    page = html.read_text(encoding="utf-8")
    assert all(f">{name}</a>" in page for name in names), "each in the grid"
    assert "<h3>vm · 3f2b " in page          # the not-ready one's to-do heading
    csv_rows = list(csv.reader(io.StringIO(table.read_text(encoding="utf-8-sig")), delimiter=";"))
    assert [r[0] for r in csv_rows[1:]] == names and [r[1] for r in csv_rows[1:]] == ids


def test_a_partial_run_lists_what_it_skipped_and_is_never_ready(tmp_path):
    """`examroom check --only storage` (real run): the others are `skip` in the JSON, and the
    room summary says "partiel", not "oui", and does not count the machine as ready."""
    env = dict(os.environ, EXAMROOM_HOME=str(tmp_path / "home"), EXAMROOM_MACHINE_ID="partial-1")
    report = tmp_path / "rapports" / "p.json"
    report.parent.mkdir()
    run = subprocess.run([sys.executable, "-m", "agent", "check", "--only", "storage", "--storage", str(tmp_path),
                          "--json", str(report), "--lang", "fr"], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode in (0, 1), run.stderr + run.stdout
    data = json.loads(report.read_text(encoding="utf-8"))
    from core.result import CHECK_IDS

    assert data["checks"][0]["id"] == "storage" and data["checks"][0]["status"] in ("ok", "warn")
    assert data["not_run"] == [i for i in CHECK_IDS if i != "storage"]
    skipped = {c["id"]: c for c in data["checks"][1:]}
    assert set(skipped) == set(data["not_run"]) and all(c["status"] == "skip" for c in skipped.values())
    assert skipped["browser"]["summary"] == "Non lancée (--only / --skip)"
    assert data["ready"] is (run.returncode == 0)     # the contract's ready: no check failed
    assert "Non lancées (--only / --skip) : browser, " in run.stdout   # the terminal says what it skipped

    shutil.copy(ROOM / "SALLE-B12-P01.json", report.parent / "p01.json")   # a full, ready report beside it
    done = examroom(str(report.parent))
    assert done.returncode == 1, done.stdout
    row = next(line for line in done.stdout.splitlines() if line.startswith(data["machine"]["hostname"] + " "))
    assert row.split()[1] == "partiel" and "Rapport partiel" in row, row
    assert done.stdout.splitlines()[-1] == "1 poste(s) prêt(s) sur 2"
    html = tmp_path / "s.html"
    examroom(str(report.parent), "--html", str(html))
    page = html.read_text(encoding="utf-8")
    assert "Salle NON PRÊTE" in page and "partiel" in page and "Relancez « examroom check »" in page
