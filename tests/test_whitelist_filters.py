"""Block-page signatures, table style: what each school filter answers, and what the sites
themselves answer (which must not be taken for a block)."""
from __future__ import annotations

import pytest

from whitelist.filters import classify

URL = "https://app.pix.fr/"
PROXY = "http://10.0.0.1:3128"


@pytest.mark.parametrize("status, headers, body, reason, product", [
    (403, {"x-squid-error": "ERR_ACCESS_DENIED 0"}, "", "blocked", "Squid"),
    (503, {"x-squid-error": "ERR_DNS_FAIL 0"}, "", "dns_failed", "Squid"),
    (503, {"x-squid-error": "ERR_CONNECT_FAIL 111"}, "", "connect_failed", "Squid"),
    (504, {"x-squid-error": "ERR_READ_TIMEOUT 0"}, "", "timeout", "Squid"),
    (407, {"x-squid-error": "ERR_CACHE_ACCESS_DENIED 0"}, "", "proxy_auth_required", "Squid"),
    (407, {"proxy-authenticate": "NTLM"}, "", "proxy_auth_required", ""),
    (302, {"location": "http://10.0.0.1/cgi-bin/squidGuard.cgi?clientaddr=1&url=https://app.pix.fr/"}, "", "blocked", "SquidGuard"),
    (403, {}, "<title>e2guardian - Access Denied</title>", "blocked", "e2guardian"),
    (200, {}, "<title>Accès refusé</title><p>EOLE Amon : le site est bloqué par le filtrage</p>", "blocked", "EOLE Amon"),
    (403, {}, "<html><title>Olfeo</title>Accès refusé par la politique de filtrage</html>", "blocked", "Olfeo"),
    (200, {}, "<title>Web Page Blocked</title>FortiGuard Web Filtering: Fortinet", "blocked", "Fortinet FortiGuard"),
    (303, {"location": "https://10.0.0.254:8010/fgtauth?0123"}, "", "blocked", "Fortinet FortiGuard"),
    (403, {}, "<title>Stormshield Network Security</title>Access denied: URL filtering", "blocked", "Stormshield"),
    (403, {}, "<title>Sophos Web Appliance</title>The page is blocked by Sophos", "blocked", "Sophos"),
    (200, {}, "<title>Site bloqué</title>Ce site est bloqué par votre établissement.", "blocked", ""),
    (451, {}, "Unavailable For Legal Reasons", "blocked", ""),
    (302, {"location": "http://filtre.lycee.lan/blocked?url=app.pix.fr"}, "", "blocked", ""),
])
def test_filter_answers(status, headers, body, reason, product):
    verdict = classify(status, headers, body, URL, via_proxy=PROXY)
    assert verdict is not None and (verdict.reason, verdict.product) == (reason, product)
    assert verdict.evidence


@pytest.mark.parametrize("status, headers, body", [
    (200, {}, "<title>Pix</title><p>Le filtrage de vos résultats par compétence</p>"),
    (301, {"location": "https://app.pix.fr/fr/"}, ""),
    (302, {"location": "https://login.pix.fr/connexion"}, ""),
    (403, {}, "<title>Forbidden</title>"),            # the site refusing, directly: not a filter
    (500, {}, "<title>Internal Server Error</title>"),
    (404, {}, "<title>Not Found</title>"),
])
def test_site_answers_are_not_blocks(status, headers, body):
    assert classify(status, headers, body, URL) is None


def test_a_proxy_refusing_connect_is_a_block_even_without_a_signature():
    verdict = classify(403, {}, "", URL, via_proxy=PROXY, connect_answer=True)
    assert verdict.reason == "blocked" and "10.0.0.1:3128" in str(verdict.evidence)
    assert verdict.evidence.text("fr").startswith("le proxy 10.0.0.1:3128 a refusé CONNECT")
    assert classify(502, {}, "", URL, via_proxy=PROXY, connect_answer=True) is None  # the probe says connect_failed


def test_every_note_key_is_in_the_translation_table():
    import re
    from pathlib import Path

    from core import i18n

    root = Path(__file__).resolve().parents[1]
    sources = [*(root / "whitelist").glob("*.py"), root / "checks" / "whitelist.py", root / "checks" / "bandwidth.py"]
    keys = set()
    for path in sources:
        keys |= set(re.findall(r'note\(\s*"([a-z_.]+)"', path.read_text()))
    keys |= {"net.filter.connect_refused", "net.filter.refused"}
    assert len(keys) > 30
    missing = [k for k in sorted(keys) if not i18n.has(k)]
    assert not missing


def test_a_sites_own_403_forwarded_by_a_proxy_is_not_a_block():
    headers = {"via": "1.1 proxy.lycee (squid/5.7)", "server": "nginx"}
    assert classify(403, headers, "<title>403 Forbidden</title>", "http://pix.fr/", via_proxy=PROXY) is None
