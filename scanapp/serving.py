"""Serving on the store network: a self-signed certificate that phones accept once, and the start-up banner.

Phone cameras need HTTPS (except on localhost), so `make run` serves HTTPS with a certificate made here and
prints, when gunicorn is ready, the address to open from a phone, as text and as a QR code to scan.
"""

import fcntl
import ipaddress
import os
import socket
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import qrcode
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from flask import Flask
from qrcode.constants import ERROR_CORRECT_M
from sqlalchemy.exc import SQLAlchemyError

from scanapp.extensions import db
from scanapp.services.demo import DEMO_USERS
from scanapp.services.users import authenticate

CERT_DAYS = 730
RENEW_BEFORE = timedelta(days=30)
CERT_FILE, KEY_FILE = "cert.pem", "key.pem"
# Interfaces a phone on the store network cannot reach: containers, VMs, bridges.
VIRTUAL_INTERFACES = ("lo", "docker", "br-", "veth", "virbr", "vmnet", "ifb", "tun", "tap")
SIOCGIFADDR = 0x8915  # Linux ioctl: an interface's IPv4 address


@dataclass(frozen=True)
class Certificate:
    """A certificate on disk: its files, the names it covers, when it expires, and whether it was just made."""

    cert_path: Path
    key_path: Path
    names: list[str]
    not_after: datetime
    created: bool


def lan_ipv4_addresses() -> list[str]:
    """This machine's IPv4 addresses that a phone on the same network can reach; the default route's first."""
    found = [_default_route_address()]
    for _, name in socket.if_nameindex():
        if not name.startswith(VIRTUAL_INTERFACES):
            found.append(_interface_address(name))
    usable = []
    for address in dict.fromkeys(a for a in found if a):
        ip = ipaddress.IPv4Address(address)
        if not (ip.is_loopback or ip.is_link_local or ip.is_unspecified):
            usable.append(address)
    return usable


def _default_route_address() -> str | None:
    """The address this machine would send from; connecting a UDP socket sends nothing."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))
            return s.getsockname()[0]
        except OSError:
            return None


def _interface_address(name: str) -> str | None:
    """The IPv4 address of one network interface (Linux), or None."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            packed = fcntl.ioctl(s.fileno(), SIOCGIFADDR, struct.pack("256s", name.encode()[:15]))
        return socket.inet_ntoa(packed[20:24])
    except OSError:
        return None


def certificate_names() -> tuple[list[str], list[str]]:
    """Host names and IP addresses the certificate must cover: localhost, this machine, its LAN addresses."""
    host = socket.gethostname()
    dns = list(dict.fromkeys(n for n in ("localhost", host, f"{host}.local" if "." not in host else "") if n))
    return dns, ["127.0.0.1", *lan_ipv4_addresses()]


def ensure_certificate(directory: Path, *, force: bool = False, now: datetime | None = None) -> Certificate:
    """Reuse the certificate in `directory` while it has 30 days left and covers every name; else make one.

    The key is an ECDSA P-256 key readable only by its owner; the certificate is valid for two years, within
    the 825 days that iOS accepts for a certificate a person trusts by hand.
    """
    now = now or datetime.now(UTC)
    dns, ips = certificate_names()
    wanted = dns + ips
    cert_path, key_path = directory / CERT_FILE, directory / KEY_FILE
    if not force and cert_path.exists() and key_path.exists():
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        names = subject_alt_names(cert)
        if cert.not_valid_after_utc - now > RENEW_BEFORE and set(wanted) <= set(names):
            return Certificate(cert_path, key_path, names, cert.not_valid_after_utc, created=False)

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"scanapp on {dns[1] if len(dns) > 1 else dns[0]}")])
    alt_names = [x509.DNSName(n) for n in dns] + [x509.IPAddress(ipaddress.ip_address(a)) for a in ips]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=CERT_DAYS))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    key_bytes = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key_bytes)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return Certificate(cert_path, key_path, subject_alt_names(cert), cert.not_valid_after_utc, created=True)


def subject_alt_names(cert: x509.Certificate) -> list[str]:
    """The host names and IP addresses a certificate is valid for, as text."""
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return san.get_values_for_type(x509.DNSName) + [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]


def phone_urls(binds: list[str], *, tls: bool) -> tuple[list[str], list[str]]:
    """(URLs for phones on the network, URLs on this computer) for gunicorn's bind addresses."""
    scheme = "https" if tls else "http"
    network, local = [], []
    for bind in binds:
        if bind.startswith(("unix:", "fd://")) or ":" not in bind:
            continue
        host, port = bind.rsplit(":", 1)
        host = host.strip("[]")
        local.append(f"{scheme}://localhost:{port}/")
        if host in ("0.0.0.0", "::", ""):
            network += [f"{scheme}://{ip}:{port}/" for ip in lan_ipv4_addresses()]
        elif host not in ("localhost", "::1") and not host.startswith("127."):
            network.append(f"{scheme}://{host}:{port}/")
    return list(dict.fromkeys(network)), list(dict.fromkeys(local))


def qr_lines(url: str, *, color: bool = False) -> list[str]:
    """The QR code of `url` in half-block characters, two modules a line, light modules drawn.

    Drawn light-on-dark it reads on a dark terminal; with `color` the terminal is told to draw white on
    black whatever its theme, so the camera sees a normal QR code either way.
    """
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=2)
    qr.add_data(url)
    qr.make(fit=True)
    rows = qr.get_matrix()  # True is a dark module; the quiet zone is included
    if len(rows) % 2:
        rows.append([False] * len(rows[0]))
    glyphs = {(False, False): "█", (False, True): "▀", (True, False): "▄", (True, True): " "}
    lines = []
    for top, bottom in zip(rows[::2], rows[1::2], strict=True):
        line = "".join(glyphs[t, b] for t, b in zip(top, bottom, strict=True))
        lines.append(f"\x1b[38;5;255;48;5;232m{line}\x1b[0m" if color else line)
    return lines


def banner(
    network: list[str], local: list[str], *, tls: bool, sign_ins: list[tuple[str, str]], password: str, color=False
) -> str:
    """What `make run` prints once gunicorn listens: where to point a phone, and how to sign in."""
    out = ["", "scanapp is running."]
    if network:
        out += ["Open it on a phone on the store network:", *(f"    {url}" for url in network), ""]
        out += [f"    {line}" for line in qr_lines(network[0], color=color)]
        out += ["", f"Or point the phone's camera at this QR code ({network[0]})."]
        if tls:
            out += [
                "The certificate is self-signed: the first time, the phone warns once. Tap Advanced, then",
                "Proceed (Safari: Show Details, then visit this website); it remembers the choice.",
            ]
    if local:
        out.append(f"On this computer: {', '.join(local)}")
    if sign_ins:
        width = max(len(u) for u, _ in sign_ins)
        out += ["", f"Demo sign-ins, password {password}:"]
        out += [f"    {username:<{width}}  {role}" for username, role in sign_ins]
    return "\n".join(out) + "\n"


def demo_sign_ins(password: str) -> list[tuple[str, str]]:
    """(username, role) of each demo user that signs in with the demo password; empty without demo data."""
    found = [authenticate(username, password) for username, *_ in DEMO_USERS]
    return [(user.username, user.role) for user in found if user is not None]


def startup_banner(app: Flask, binds: list[str], *, tls: bool, color: bool = False) -> str:
    """The banner for `app` served on gunicorn's `binds`, with the demo sign-ins when the demo data is there.

    gunicorn calls this in its master process before forking the workers, so no database connection is kept.
    """
    with app.app_context():
        password = app.config["DEMO_PASSWORD"]
        try:
            sign_ins = demo_sign_ins(password)
        except SQLAlchemyError:
            sign_ins = []
        db.session.remove()
        db.engine.dispose()
    network, local = phone_urls(binds, tls=tls)
    return banner(network, local, tls=tls, sign_ins=sign_ins, password=password, color=color)
