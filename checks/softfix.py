"""Remediations of the software checks, written for the host's OS and distribution, and
never advising what would still fail: before "sudo apt install libreoffice" we ask apt which
version it would install (``apt-cache policy``) and date it; Debian 12's LibreOffice 7.4 is
too old, so there the advice is Flathub or LibreOffice's own packages instead. Microsoft
Office's perpetual editions cannot be updated to newer features: a newer edition is advised
only when the release table says it is recent enough.

Facts: ``/etc/os-release`` (ID, ID_LIKE, VERSION_ID, VERSION_CODENAME) and apt's candidate
version, read only when a remediation needs them (a failing check).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from checks.base import CheckContext
from checks.probes.parsing import upstream_version
from checks.probes.software import Program
from checks.releases import Age, age_of, table


# Flathub's LibreOffice is the Document Foundation's current release on any distribution.
FLATPAK_LIBREOFFICE = ("sudo apt install flatpak && sudo flatpak remote-add --if-not-exists flathub "
                       "https://dl.flathub.org/repo/flathub.flatpakrepo && "
                       "sudo flatpak install -y flathub org.libreoffice.LibreOffice")


@dataclass(frozen=True)
class Distro:
    id: str = ""
    like: tuple[str, ...] = ()
    version_id: str = ""
    codename: str = ""
    name: str = ""

    @property
    def family(self) -> str:
        """``debian``, ``ubuntu`` (and its derivatives: Mint, Zorin, elementary), ``fedora``,
        ``suse``, ``arch`` or ``other``."""
        ids = (self.id, *self.like)
        for family in ("ubuntu", "debian", "fedora", "suse", "arch"):
            if any(family in i for i in ids):
                return family
        return "other"


def distro(ctx: CheckContext) -> Distro:
    for where in ("/etc/os-release", "/usr/lib/os-release"):
        try:
            text = ctx.host.path(where).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        values = dict(re.findall(r'^([A-Z_]+)="?([^"\n]*)"?$', text, re.M))
        return Distro(id=values.get("ID", "").lower(), like=tuple(values.get("ID_LIKE", "").lower().split()),
                      version_id=values.get("VERSION_ID", ""),
                      codename=values.get("VERSION_CODENAME") or values.get("UBUNTU_CODENAME", ""),
                      name=values.get("PRETTY_NAME") or values.get("NAME", ""))
    return Distro()


def apt_candidate(ctx: CheckContext, package: str) -> str | None:
    """The version ``apt install package`` would install now (its upstream part), or None."""
    if ctx.host.which("apt-cache") is None:
        return None
    done = ctx.host.run(["apt-cache", "policy", package], timeout=10)
    if done is None or not done.ok:
        return None
    match = re.search(r"^\s*(?:Candidate|Candidat)\s*:\s*(\S+)", done.stdout, re.M)
    if not match or match.group(1) == "(none)" or match.group(1) == "(aucun)":
        return None
    return upstream_version(match.group(1))


def _recent(ctx: CheckContext, series: str, version: str | None) -> bool:
    return age_of(series, version, None, ctx.host.now(), ctx.policy.max_software_age_days).age == Age.recent


def _os(ctx: CheckContext) -> str:
    return ctx.host.os if ctx.host.os in ("linux", "windows", "macos") else "linux"


def install_libreoffice(ctx: CheckContext) -> str:
    """How to get a LibreOffice recent enough to pass, on this host."""
    os_name = _os(ctx)
    if os_name != "linux":
        return ctx.t(f"software.fix.libreoffice.{os_name}")
    d = distro(ctx)
    if d.family in ("debian", "ubuntu"):
        candidate = apt_candidate(ctx, "libreoffice-core")
        if candidate and _recent(ctx, "libreoffice", candidate):
            return ctx.t("software.fix.libreoffice.apt", version=candidate)
        if candidate is None:  # apt knows no LibreOffice here: Flathub or the vendor's packages
            return ctx.t("software.fix.libreoffice.other_linux", flatpak=FLATPAK_LIBREOFFICE)
        key = "software.fix.libreoffice.debian_old" if d.family == "debian" else "software.fix.libreoffice.ubuntu_old"
        return ctx.t(key, version=candidate or "?", distro=d.name or d.id, codename=d.codename or "stable",
                     flatpak=FLATPAK_LIBREOFFICE)
    return ctx.t("software.fix.libreoffice.other_linux", flatpak=FLATPAK_LIBREOFFICE)


def office_fix_old(ctx: CheckContext, suite: Program, years: str) -> str:
    os_name = _os(ctx)
    if suite.key == "libreoffice":
        if "flatpak" in suite.sources or suite.name.endswith("(flatpak)"):
            return ctx.t("software.fix.libreoffice.flatpak_update")
        if "snap" in suite.sources:
            return ctx.t("software.fix.libreoffice.snap_update")
        return install_libreoffice(ctx)
    if suite.key == "msoffice":
        if os_name == "macos":
            return ctx.t("software.fix.msoffice.mac_update", years=years)
        if suite.edition == "365":
            return ctx.t("software.fix.msoffice.m365_update")
        newer = [e for e, when in table().get("office", {}).items()
                 if re.fullmatch(r"20\d\d(-ltsc)?", e) and e > (suite.edition or "")
                 and age_of("msoffice", None, e, ctx.host.now(), ctx.policy.max_software_age_days).age == Age.recent]
        edition = (suite.edition or "").replace("-ltsc", " LTSC")
        if newer:
            return ctx.t("software.fix.msoffice.perpetual_newer", edition=edition,
                         newer=max(newer).replace("-ltsc", " LTSC"), libreoffice=install_libreoffice(ctx))
        return ctx.t("software.fix.msoffice.perpetual", edition=edition, libreoffice=install_libreoffice(ctx))
    if suite.key == "openoffice":
        return ctx.t("software.fix.openoffice", years=years, libreoffice=install_libreoffice(ctx))
    return ctx.t("software.fix.other_suite", suite=suite.name, libreoffice=install_libreoffice(ctx))


def browser_fix_all_old(ctx: CheckContext, old: list[Program], old_text: str) -> str:
    """Update the old browsers the way this OS updates them."""
    os_name = _os(ctx)
    if os_name == "linux":
        if any("snap" in p.sources or p.name.endswith("(snap)") for p in old):
            how = ctx.t("software.fix.browser.linux_snap")
        elif any("flatpak" in p.sources or p.name.endswith("(flatpak)") for p in old):
            how = ctx.t("software.fix.browser.linux_flatpak")
        elif distro(ctx).family in ("debian", "ubuntu"):
            how = ctx.t("software.fix.browser.linux_apt")
        else:
            how = ctx.t("software.fix.browser.linux_other")
        return ctx.t("software.browser.fix_all_old", old=old_text, how=how)
    ids = {"firefox": "Mozilla.Firefox", "firefox_esr": "Mozilla.Firefox.ESR", "chrome": "Google.Chrome",
           "edge": "Microsoft.Edge", "opera": "Opera.Opera", "chromium": "Hibbiki.Chromium"}
    if os_name == "windows":
        winget = ", ".join(f"winget upgrade {ids[p.key]}" for p in old if p.key in ids)
        return ctx.t("software.browser.fix_all_old", old=old_text,
                     how=ctx.t("software.fix.browser.windows", winget=winget or "winget upgrade --all"))
    return ctx.t("software.browser.fix_all_old", old=old_text, how=ctx.t("software.fix.browser.macos"))
