"""Serving for phones: the start-up banner (URLs, a QR code a camera reads, demo sign-ins), gunicorn settings,
the certificate's renewal, and gunicorn started for real over HTTPS."""

import ipaddress
import json
import os
import re
import runpy
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from scanapp import create_app
from scanapp.extensions import db
from scanapp.services.demo import seed_demo
from scanapp.serving import (
    banner,
    ensure_certificate,
    lan_ipv4_addresses,
    phone_urls,
    qr_lines,
    startup_banner,
)

ROOT = Path(__file__).resolve().parent.parent
URL = "https://192.0.2.10:8443/"
DEMO = ["alex", "vera", "ben", "maria", "admin"]


def read_terminal_qr(lines: list[str]) -> list[str]:
    """What a phone camera reads from QR lines shown light-on-dark in a terminal (no inverted-code fallback)."""
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in lines]
    halves = {"█": (255, 255), "▀": (255, 0), "▄": (0, 255), " ": (0, 0)}
    image = Image.new("L", (len(lines[0]) + 8, len(lines) * 2 + 8), 0)  # the dark terminal around it
    for y, line in enumerate(lines):
        for x, char in enumerate(line):
            top, bottom = halves[char]
            image.putpixel((x + 4, 2 * y + 4), top)
            image.putpixel((x + 4, 2 * y + 5), bottom)
    image = image.resize((image.width * 8, image.height * 8), Image.NEAREST)
    return [code.text for code in zxingcpp.read_barcodes(image, try_invert=False)]


def qr_block(text: str) -> list[str]:
    return [line.strip("\n")[4:] for line in text.splitlines() if "█" in line]


@pytest.mark.parametrize("color", [False, True])
def test_qr_lines_read_back_as_the_url(color):
    lines = qr_lines(URL, color=color)
    assert read_terminal_qr(lines) == [URL]
    assert all(("\x1b[" in line) == color for line in lines)


def test_banner_says_where_to_point_a_phone():
    text = banner([URL, "https://10.0.0.7:8443/"], ["https://localhost:8443/"], tls=True, sign_ins=[], password="pw")
    assert f"    {URL}\n    https://10.0.0.7:8443/\n" in text
    assert read_terminal_qr(qr_block(text)) == [URL]  # the QR code is of the first address
    assert "self-signed" in text and "Proceed" in text
    assert "On this computer: https://localhost:8443/" in text
    assert "Demo sign-ins" not in text and "pw" not in text


def test_banner_lists_demo_sign_ins_with_the_password():
    text = banner([URL], [], tls=True, sign_ins=[("alex", "associate"), ("maria", "manager")], password="scan-demo")
    assert "Demo sign-ins, password scan-demo:\n    alex   associate\n    maria  manager\n" in text


def test_banner_over_plain_http_has_no_certificate_advice():
    text = banner(["http://192.0.2.10:8000/"], [], tls=False, sign_ins=[], password="pw")
    assert "http://192.0.2.10:8000/" in text and "self-signed" not in text


def test_banner_without_network_address_has_no_qr_code():
    text = banner([], ["https://localhost:8443/"], tls=True, sign_ins=[], password="pw")
    assert "█" not in text and "On this computer: https://localhost:8443/" in text


def test_lan_addresses_are_reachable_ipv4():
    for address in lan_ipv4_addresses():
        ip = ipaddress.IPv4Address(address)
        assert not (ip.is_loopback or ip.is_link_local or ip.is_unspecified)


@pytest.mark.parametrize(
    ("bind", "tls", "network", "local"),
    [
        ("0.0.0.0:8443", True, "lan", ["https://localhost:8443/"]),
        ("[::]:8443", True, "lan", ["https://localhost:8443/"]),
        ("127.0.0.1:9000", False, [], ["http://localhost:9000/"]),
        ("192.0.2.50:8443", True, ["https://192.0.2.50:8443/"], ["https://localhost:8443/"]),
        ("unix:/run/scanapp.sock", False, [], []),
    ],
)
def test_phone_urls_follow_the_bind_address(bind, tls, network, local):
    if network == "lan":
        network = [f"https://{ip}:8443/" for ip in lan_ipv4_addresses()]
    assert phone_urls([bind], tls=tls) == (network, local)


def test_startup_banner_has_no_sign_ins_without_demo_data(app, make):
    store = make.store("A")
    make.user("associate", [store], username="alex")  # a real user named alex, with another password
    db.session.commit()
    assert "Demo sign-ins" not in startup_banner(app, ["0.0.0.0:8443"], tls=True)


def test_startup_banner_lists_the_demo_sign_ins(app):
    password = app.config["DEMO_PASSWORD"]
    seed_demo(password)
    db.session.commit()
    text = startup_banner(app, ["0.0.0.0:8443"], tls=True)
    assert f"Demo sign-ins, password {password}:" in text
    assert [line.split()[0] for line in text.split("Demo sign-ins")[1].splitlines()[1:] if line] == DEMO


def test_startup_banner_survives_an_unreachable_database(app):
    config = {k: v for k, v in app.config.items() if k != "SQLALCHEMY_ENGINE_OPTIONS"}
    down = create_app({**config, "SQLALCHEMY_DATABASE_URI": "postgresql://postgres@127.0.0.1:1/none"})
    text = startup_banner(down, ["127.0.0.1:8443"], tls=True)
    assert "scanapp is running" in text and "Demo sign-ins" not in text


def test_certificate_is_renewed_a_month_before_it_expires(tmp_path):
    first = ensure_certificate(tmp_path)
    assert first.created
    assert not ensure_certificate(tmp_path, now=datetime.now(UTC) + timedelta(days=690)).created
    renewed = ensure_certificate(tmp_path, now=datetime.now(UTC) + timedelta(days=710))
    assert renewed.created and renewed.not_after > first.not_after


def gunicorn_settings(monkeypatch, **env) -> dict:
    for name in ("SCANAPP_PORT", "SCANAPP_BIND", "SCANAPP_TLS", "SCANAPP_TLS_DIR", "WEB_CONCURRENCY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def test_gunicorn_serves_https_on_8443_everywhere_with_2n_minus_1_workers(monkeypatch):
    settings = gunicorn_settings(monkeypatch)
    assert settings["bind"] == ["0.0.0.0:8443"]
    assert settings["workers"] == 2 * len(os.sched_getaffinity(0)) - 1
    assert settings["worker_class"] == "sync"
    assert settings["certfile"] == str(ROOT / "instance" / "tls" / "cert.pem")
    assert settings["keyfile"] == str(ROOT / "instance" / "tls" / "key.pem")


def test_gunicorn_settings_from_the_environment(monkeypatch):
    assert gunicorn_settings(monkeypatch, SCANAPP_PORT="9443")["bind"] == ["0.0.0.0:9443"]
    settings = gunicorn_settings(monkeypatch, SCANAPP_BIND="127.0.0.1:8000", SCANAPP_TLS="off", WEB_CONCURRENCY="2")
    assert settings["bind"] == ["127.0.0.1:8000"] and settings["workers"] == 2
    assert "certfile" not in settings and "keyfile" not in settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gunicorn_starts_over_https_and_prints_the_banner(app, database_url, tmp_path):
    """The real thing: gunicorn with gunicorn.conf.py, the certificate of `flask tls-cert`, the demo data."""
    seed_demo(app.config["DEMO_PASSWORD"])
    db.session.commit()
    cert = ensure_certificate(tmp_path / "tls")
    port = free_port()
    env = {
        **{name: value for name, value in os.environ.items() if not name.startswith("SCANAPP_")},
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test",
        "SCANAPP_TLS_DIR": str(tmp_path / "tls"),
        "SCANAPP_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    context = ssl.create_default_context(cafile=str(cert.cert_path))  # trusts exactly this certificate
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"https://127.0.0.1:{port}/healthz", context=context) as response:
                    health = json.load(response)
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert health["status"] == "ok"
    assert f"On this computer: https://localhost:{port}/" in output
    assert f"Demo sign-ins, password {app.config['DEMO_PASSWORD']}:" in output
    assert "Traceback" not in output
