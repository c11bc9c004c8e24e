"""TLS: verify a site's certificate, and when it fails, say whether someone is in between.

Facts read: the certificate the other end presents (parsed with ``cryptography``) and
OpenSSL's verification error against the trust store (the system's, plus certifi's, plus
an extra bundle that tests give).

How ``tls_intercepted`` is told apart from ``tls_error``:

- the chain does not lead to a trusted root ("unable to get local issuer", "self-signed
  certificate in chain"): a public site of the whitelist always has a publicly trusted
  chain, so an unknown issuer means a machine on the path re-signed the site's
  certificate with its own CA -> ``tls_intercepted`` (an inspection CA not deployed here);
- the certificate names another host, and that certificate is the proxy's own (it names
  the proxy host), or the same certificate is presented for several unrelated hosts
  (one box answering for every site: see ``shared_certificates``) -> ``tls_intercepted``;
- the issuer or subject names an inspection product (FortiGate, Sophos, Stormshield,
  Olfeo, Squid ssl-bump, "SSL inspection"...) -> ``tls_intercepted``, even when the
  machine trusts it (its CA was deployed): the exam traffic is then decrypted;
- the chain verifies, but only through a root added on this machine (not one of the public
  roots certifi ships, nor a lab's stand-in for them): the machine trusts an inspection CA,
  whatever its name ("Région académique – Autorité racine") -> ``tls_intercepted``, a warning
  naming that CA (``local_root``);
- otherwise (expired, not yet valid, a wrong name from a trusted CA, a self-signed leaf)
  -> ``tls_error``: the site's own certificate is wrong, or this machine's clock is.
"""
from __future__ import annotations

import hashlib
import os
import re
import ssl
from dataclasses import dataclass, field
from functools import lru_cache

from whitelist.notes import Note, note

_UNTRUSTED_ISSUER = {2, 19, 20, 21}   # OpenSSL X509_V_ERR_* codes: the chain has no trusted root
_SELF_SIGNED_LEAF = 18
_HOSTNAME_MISMATCH = 62
_INSPECTION = re.compile(
    r"fortigate|fortinet|sophos|stormshield|netasq|olfeo|squid|e2guardian|\bamon\b|\beole\b"
    r"|inspection|interception|decrypt|ssl[ -]?proxy|mitm|web ?filter|firewall",
    re.IGNORECASE,
)


@dataclass
class CertInfo:
    subject: str = ""
    issuer: str = ""
    names: list[str] = field(default_factory=list)
    fingerprint: str = ""
    not_after: str = ""


def make_context(cafile: str | None = None, local_cafiles: tuple[str, ...] = ()) -> ssl.SSLContext:
    """The trust store a browser would use: the system's, plus certifi (for machines whose
    store is incomplete), plus ``cafile`` (a lab's public roots), plus the bundles this
    machine's tools were pointed at (``REQUESTS_CA_BUNDLE``, ``SSL_CERT_FILE``)."""
    context = ssl.create_default_context()
    for path in (_certifi(), cafile, *local_cafiles):
        if path and os.path.isfile(path):
            try:
                context.load_verify_locations(path)
            except (OSError, ssl.SSLError):
                pass  # an unreadable bundle adds nothing; the probe still uses the others
    return context


def _certifi() -> str | None:
    try:
        import certifi

        return certifi.where()
    except ImportError:
        return None


def public_keys(cafile: str | None = None) -> frozenset[str]:
    """The public roots (certifi's, plus a lab's ``cafile``), as SubjectPublicKeyInfo hashes:
    a root re-issued or cross-signed keeps its key."""
    return _bundle_keys(_certifi()) | _bundle_keys(cafile)


@lru_cache(maxsize=8)
def _bundle_keys(path: str | None) -> frozenset[str]:
    if not path or not os.path.isfile(path):
        return frozenset()
    from cryptography import x509

    try:
        certs = x509.load_pem_x509_certificates(open(path, "rb").read())
    except (OSError, ValueError):
        return frozenset()
    return frozenset(_key_of(c) for c in certs)


def _key_of(cert) -> str:
    from cryptography.hazmat.primitives import serialization

    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).hexdigest()


def local_root(tls: ssl.SSLSocket, public: frozenset[str]) -> CertInfo | None:
    """The root the verified chain ends at, when it is not a public one (added on this
    machine); None when it is public, or when this Python cannot show the chain."""
    chain = getattr(getattr(tls, "_sslobj", None), "get_verified_chain", None)
    if chain is None or not public:
        return None
    try:
        certs = chain()
        der = certs[-1].public_bytes(ssl._ssl.ENCODING_DER)  # type: ignore[attr-defined]
    except (AttributeError, IndexError, ValueError, ssl.SSLError):
        return None
    from cryptography import x509

    root = x509.load_der_x509_certificate(der)
    return None if _key_of(root) in public else describe(der)


def unverified_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def describe(der: bytes | None) -> CertInfo:
    if not der:
        return CertInfo()
    from cryptography import x509

    info = CertInfo(fingerprint=hashlib.sha256(der).hexdigest())
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError:
        return info
    info.subject = cert.subject.rfc4514_string()
    info.issuer = cert.issuer.rfc4514_string()
    info.not_after = cert.not_valid_after_utc.date().isoformat()
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        info.names = [n.lower() for n in san.get_values_for_type(x509.DNSName)]
    except x509.ExtensionNotFound:
        pass
    return info


def inspection_product(info: CertInfo) -> bool:
    return bool(_INSPECTION.search(info.issuer) or _INSPECTION.search(info.subject))


def covers(info: CertInfo, host: str) -> bool:
    for name in info.names:
        if name == host or (name.startswith("*.") and host.endswith(name[1:]) and host.count(".") == name.count(".")):
            return True
    return False


def judge(error: ssl.SSLCertVerificationError, info: CertInfo, host: str, proxy_host: str | None) -> tuple[str, Note]:
    """``(reason, what was seen)`` for a certificate that failed verification."""
    code = getattr(error, "verify_code", 0)
    message = getattr(error, "verify_message", "") or str(error)
    issued = note("net.tls.issued", issuer=info.issuer or "?", names=", ".join(info.names[:3]) or info.subject or "?")
    if inspection_product(info):
        return "tls_intercepted", note("net.tls.inspection_product", issued=issued, message=message)
    if code in _UNTRUSTED_ISSUER:
        return "tls_intercepted", note("net.tls.untrusted", issued=issued, message=message)
    if code == _HOSTNAME_MISMATCH and proxy_host and covers(info, proxy_host.lower()):
        return "tls_intercepted", note("net.tls.proxy_own_cert", proxy=proxy_host, host=host, issued=issued)
    if code == _HOSTNAME_MISMATCH:
        return "tls_error", note("net.tls.wrong_name", issued=issued, host=host, message=message)
    if code == _SELF_SIGNED_LEAF:
        return "tls_error", note("net.tls.self_signed", issued=issued, message=message)
    if code in (9, 10):
        return "tls_error", note("net.tls.expired", issued=issued, date=info.not_after, message=message)
    return "tls_error", note("net.tls.other", issued=issued, message=message)


def shared_certificates(outcomes: list) -> None:
    """One certificate shown for several hosts it does not cover is an interceptor's:
    re-label those ``tls_error`` outcomes ``tls_intercepted`` (in place)."""
    by_print: dict[str, set[str]] = {}
    for o in outcomes:
        if o.reason == "tls_error" and o.cert is not None and o.cert.fingerprint and not covers(o.cert, o.host):
            by_print.setdefault(o.cert.fingerprint, set()).add(o.host)
    for o in outcomes:
        if o.reason == "tls_error" and o.cert is not None and len(by_print.get(o.cert.fingerprint, ())) >= 2:
            others = len(by_print[o.cert.fingerprint]) - 1
            o.reason = "tls_intercepted"
            o.note = note("net.tls.shared", subject=o.cert.subject or "?", issuer=o.cert.issuer or "?", others=others)
