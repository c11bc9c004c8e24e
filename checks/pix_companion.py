"""Check ``pix_companion``: the platform's own browser extension (Pix Companion) is installed
and enabled in every browser candidates may use, and so is examroom's own extension.

The certification page refuses to start without Pix Companion (the platform's
``companion/blocker`` component pings it every second). Facts: the software inventory (which
browsers exist) and ``checks/probes/extensions.py`` (profiles and enterprise policies). Pix
Companion is known by its store ids (policy ``pix_companion_chromium_ids`` /
``pix_companion_firefox_ids``, a centre can add its own) and its manifest name; examroom's
extension by the ids of ``companion/extension/manifest.json`` (Chromium id derived from its
``key``, Firefox id from ``browser_specific_settings.gecko.id``).

Missing, disabled or blocked in a browser candidates can open: ``fail``, with the policy line
that deploys it for that browser on this OS. Safari has no Pix Companion: ``warn`` (candidates
must use another browser), a ``fail`` when Safari is the only browser.
"""
from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from checks.base import CheckContext
from core.host import OS_LINUX, OS_MACOS, OS_WINDOWS
from checks.probes.extensions import CHROMIUM_FAMILY, BrowserExtensions, Sighting, chromium, firefox
from core.result import CheckResult, Item, Status, worst
from checks.softcheck import join, software

ID = "pix_companion"
CRX_UPDATE_URL = "https://clients2.google.com/service/update2/crx"
PIX_AMO_URL = "https://addons.mozilla.org/firefox/downloads/latest/pix-companion/latest.xpi"
EXTENSION_DIR = Path(__file__).resolve().parent.parent / "companion" / "extension"


def budget_s(ctx: CheckContext) -> float:
    return 20.0


@dataclass(frozen=True)
class Wanted:
    key: str                      # "pix" | "examroom"
    name: str
    chromium_ids: tuple[str, ...]
    firefox_ids: tuple[str, ...]
    url_hints: tuple[str, ...] = ()   # Firefox Extensions.Install URLs naming it

    def matches(self, sighting: Sighting) -> bool:
        if sighting.ext_id in self.chromium_ids or sighting.ext_id in self.firefox_ids:
            return True
        if sighting.ext_id.startswith("url:"):
            url = sighting.ext_id[4:].lower()
            return any(h in url for h in self.url_hints) or any(i.lower() in url for i in self.firefox_ids)
        return bool(sighting.name) and sighting.name.strip().lower() == self.name.lower()


def chromium_id_from_key(key: str) -> str:
    """A Chromium extension id from the manifest's public ``key``: the first 128 bits of its
    SHA-256, written with the letters a-p."""
    digest = hashlib.sha256(base64.b64decode(key)).hexdigest()[:32]
    return digest.translate(str.maketrans("0123456789abcdef", "abcdefghijklmnop"))


def examroom_extension() -> Wanted | None:
    """Our own extension, as shipped in ``companion/extension`` (None when this build has none)."""
    try:
        manifest = json.loads((EXTENSION_DIR / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # TODO(lead): the extension lands with the companion-extension work
    chromium_ids = (chromium_id_from_key(manifest["key"]),) if manifest.get("key") else ()
    gecko = ((manifest.get("browser_specific_settings") or {}).get("gecko") or {}).get("id")
    return Wanted("examroom", str(manifest.get("name") or "examroom companion"), chromium_ids,
                  (gecko,) if gecko else ())


def wanted(ctx: CheckContext) -> list[Wanted]:
    pix = Wanted("pix", "Pix Companion", tuple(ctx.policy.pix_companion_chromium_ids),
                 tuple(ctx.policy.pix_companion_firefox_ids), url_hints=("/pix-companion/",))
    ours = examroom_extension()
    return [pix] + ([ours] if ours else [])


def _family(key: str) -> str | None:
    if key in CHROMIUM_FAMILY:
        return "chromium"
    if key in ("firefox", "firefox_esr"):
        return "firefox"
    return None


def _state(ext: Wanted, facts: BrowserExtensions) -> tuple[str, str]:
    """(state, where): installed | forced | disabled | blocked | blocked_all | missing."""
    mine = [s for s in facts.sightings if ext.matches(s)]
    blocked = next((s for s in mine if s.blocked), None)
    if blocked:
        return "blocked", blocked.where
    forced = next((s for s in mine if s.forced), None)
    if forced:
        return "forced", forced.where
    if facts.blocklist_all:
        return "blocked_all", ""
    enabled = next((s for s in mine if s.enabled and not s.forced), None)
    if enabled:
        return "installed", enabled.where
    disabled = next((s for s in mine if not s.enabled), None)
    if disabled:
        return "disabled", disabled.where
    return "missing", ""


def deploy_line(ctx: CheckContext, ext: Wanted, browser_key: str) -> str:
    """The policy that installs ``ext`` in ``browser_key`` on this OS."""
    family = _family(browser_key)
    if ext.key == "examroom":
        return ctx.t("pix_companion.fix.examroom", browser="firefox" if family == "firefox" else "chromium")
    if family == "firefox":
        ext_id = ext.firefox_ids[0] if ext.firefox_ids else "companion@pix.fr"
        policy = json.dumps({"policies": {"ExtensionSettings": {ext_id: {
            "installation_mode": "force_installed", "install_url": PIX_AMO_URL}}}})
        where = {OS_LINUX: "/etc/firefox/policies/policies.json",
                 OS_MACOS: "/Applications/Firefox.app/Contents/Resources/distribution/policies.json"}.get(
            ctx.host.os, "C:\\Program Files\\Mozilla Firefox\\distribution\\policies.json")
        return ctx.t("pix_companion.fix.firefox", file=where, policy=policy)
    ext_id = ext.chromium_ids[0] if ext.chromium_ids else ""
    line = f"{ext_id};{CRX_UPDATE_URL}"
    if ctx.host.os == OS_WINDOWS:
        vendor = {"chrome": "Google\\Chrome", "chromium": "Chromium", "edge": "Microsoft\\Edge"}.get(browser_key)
        if vendor:
            return ctx.t("pix_companion.fix.windows", command=(
                f'reg add "HKLM\\SOFTWARE\\Policies\\{vendor}\\ExtensionInstallForcelist" /v 1 /t REG_SZ /d "{line}" /f'))
    if ctx.host.os == OS_LINUX:
        folder = {"chrome": "/etc/opt/chrome/policies/managed", "chromium": "/etc/chromium/policies/managed",
                  "edge": "/etc/opt/edge/policies/managed"}.get(browser_key)
        if folder:
            return ctx.t("pix_companion.fix.linux_json", file=f"{folder}/pix.json",
                         policy=json.dumps({"ExtensionInstallForcelist": [line]}))
    if ctx.host.os == OS_MACOS and browser_key in ("chrome", "edge", "chromium"):
        return ctx.t("pix_companion.fix.macos", line=line)
    return ctx.t("pix_companion.fix.store", ext=ext.name)


def run(ctx: CheckContext) -> CheckResult:
    browsers = software(ctx).of_kind("browser")
    if not browsers:
        return ctx.result(ID, Status.skip, ctx.t("pix_companion.no_browser"))
    exts = wanted(ctx)
    facts: dict[str, BrowserExtensions] = {}
    items: list[Item] = []
    missing_in: dict[str, list[str]] = {}  # extension name -> browsers lacking it
    fixes: list[str] = []
    only_safari = all(b.key == "safari" for b in browsers)
    for program in browsers:
        family = _family(program.key)
        for ext in exts:
            name = f"{ext.name} — {program.name}"
            if family is None:  # Safari: no Pix Companion exists for it
                if ext.key == "pix":
                    status = Status.fail if only_safari else Status.warn
                    items.append(Item(name=name, status=status, detail=ctx.t("pix_companion.state.unsupported"),
                                      browser=program.name, extension=ext.name, state="unsupported"))
                    missing_in.setdefault(ext.name, []).append(program.name)
                    fixes.append(ctx.t("pix_companion.fix.safari"))
                continue
            cache_key = "firefox" if family == "firefox" else program.key
            if cache_key not in facts:
                facts[cache_key] = firefox(ctx.host, [p.path for p in browsers if _family(p.key) == "firefox"
                                                      and p.path]) if family == "firefox" \
                    else chromium(ctx.host, program.key)
            state, where = _state(ext, facts[cache_key])
            ok = state in ("installed", "forced")
            detail = ctx.t(f"pix_companion.state.{state}", where=where)
            items.append(Item(name=name, status=Status.ok if ok else Status.fail, detail=detail,
                              browser=program.name, extension=ext.name, state=state))
            if not ok:
                missing_in.setdefault(ext.name, []).append(program.name)
                fixes.append(f"{program.name} : " if ctx.lang == "fr" else f"{program.name}: ")
                fixes[-1] += deploy_line(ctx, ext, program.key)
    status = worst([i.status for i in items], default=Status.ok)
    if not missing_in:
        summary = ctx.t("pix_companion.ok", names=join(ctx, list(dict.fromkeys(b.name for b in browsers))),
                        exts=join(ctx, [e.name for e in exts]))
        return ctx.result(ID, Status.ok, summary, items=items)
    parts = [ctx.t("pix_companion.missing", ext=ext, browsers=join(ctx, list(dict.fromkeys(names))))
             for ext, names in missing_in.items()]
    summary = (" ; " if ctx.lang == "fr" else "; ").join(parts)
    return ctx.result(ID, status, summary, remediation=" ".join(dict.fromkeys(fixes)), items=items)
