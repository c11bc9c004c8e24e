"""A certificate of the server's own, for a school that has no internal certificate authority.

Why: over plain HTTP, a candidate on the school network can read the supervisors' passwords and
the machines' tokens as they pass. Most schools have no CA to sign a certificate for the teacher's
PC that runs ``examroom serve``, so ``serve --self-signed`` makes one, once, in the server's data
folder (``tls/server.crt`` and ``tls/server.key``, the key readable by its owner only), and reuses
it at each start. Machines trust exactly that certificate: ``--ca-file server.crt`` (copied with
examroom itself, by GPO or WAPT, or downloaded from the dashboard and checked against the
SHA-256 fingerprint the server prints).

The certificate names every address of this machine at the time it is made (host name,
``localhost``, each interface's IP address). When the machine later has an address the
certificate does not name, a new one is made and the server says so: machines must then get the
new file.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import os
import socket
from dataclasses import dataclass
from pathlib import Path

import psutil
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALID_DAYS = 825          # the longest lifetime browsers accept for a server certificate
RENEW_BEFORE_DAYS = 30


@dataclass(frozen=True)
class ServerCertificate:
    cert: Path
    key: Path
    fingerprint: str      # SHA-256, as "AB:CD:..." (what browsers show)
    made: bool            # made at this start (machines need the new file)


def local_names() -> tuple[list[str], list[ipaddress.IPv4Address | ipaddress.IPv6Address]]:
    """The names and addresses machines may use to reach this one."""
    names = ["localhost"]
    host = socket.gethostname()
    if host and host not in names:
        names.append(host)
    addresses: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []
    for entries in psutil.net_if_addrs().values():
        for entry in entries:
            if entry.family not in (socket.AF_INET, socket.AF_INET6):
                continue
            try:
                address = ipaddress.ip_address(entry.address.split("%", 1)[0])
            except ValueError:
                continue
            if not address.is_link_local and address not in addresses:
                addresses.append(address)
    for loopback in (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")):
        if loopback not in addresses:
            addresses.append(loopback)
    return names, addresses


def fingerprint(cert: x509.Certificate) -> str:
    return ":".join(f"{b:02X}" for b in cert.fingerprint(hashes.SHA256()))


def ensure(folder: Path, now: dt.datetime | None = None) -> ServerCertificate:
    """The certificate in ``folder`` (made or remade when missing, expiring or not naming this
    machine's current addresses). Raises OSError when the folder cannot be written."""
    now = now or dt.datetime.now(dt.timezone.utc)
    cert_path, key_path = folder / "server.crt", folder / "server.key"
    names, addresses = local_names()
    current = _usable(cert_path, key_path, names, addresses, now)
    if current is not None:
        return ServerCertificate(cert_path, key_path, fingerprint(current), made=False)
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[-1][:64]),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "examroom")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))   # machines whose clock is a little behind
        .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]
                                                   + [x509.IPAddress(a) for a in addresses]), critical=False)
        # Its own authority: a machine given this file as --ca-file trusts this server and no other.
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False, key_agreement=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(key_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    tmp = cert_path.with_suffix(".tmp")
    tmp.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    os.replace(tmp, cert_path)
    return ServerCertificate(cert_path, key_path, fingerprint(cert), made=True)


def _usable(cert_path: Path, key_path: Path, names: list[str], addresses: list, now: dt.datetime
            ) -> x509.Certificate | None:
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError):
        return None
    if cert.not_valid_after_utc - now < dt.timedelta(days=RENEW_BEFORE_DAYS):
        return None
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    named = set(san.get_values_for_type(x509.DNSName)) | set(san.get_values_for_type(x509.IPAddress))
    return cert if set(names) | set(addresses) <= named else None


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)
