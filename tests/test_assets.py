"""Compressed responses and static files cached for good under versioned names (scanapp/assets.py)."""

import gzip
import hashlib
import re
from pathlib import Path

import brotli
from flask import url_for

from scanapp import assets

STATIC = Path(__file__).resolve().parent.parent / "static"


def _setup(app):
    assets.init_app(app)  # once per app, whether or not web.py already did
    return app.test_client()


def test_static_urls_carry_the_hash_of_the_content(app):
    _setup(app)
    with app.test_request_context():
        url = url_for("static", filename="js/app.js")
    digest = hashlib.sha256((STATIC / "js/app.js").read_bytes()).hexdigest()[: assets.HASH_CHARS]
    assert url == f"/static/js/app.js?v={digest}"


def test_a_versioned_static_file_is_cached_for_a_year_and_an_outdated_one_is_not(app):
    client = _setup(app)
    with app.test_request_context():
        url = url_for("static", filename="css/app.css")
    with client.get(url) as current:
        assert current.status_code == 200
        assert current.cache_control.immutable and current.cache_control.public
        assert current.cache_control.max_age == 365 * 24 * 3600
    with client.get("/static/css/app.css?v=000000000000") as outdated:
        assert outdated.status_code == 200
        assert not outdated.cache_control.immutable and outdated.cache_control.max_age is None
    with client.get("/static/css/app.css") as unversioned:
        assert not unversioned.cache_control.immutable


def test_pages_and_static_files_are_compressed_as_the_browser_asks(app, make, client_for):
    client = _setup(app)
    with app.test_request_context():
        url = url_for("static", filename="css/app.css")
    raw = (STATIC / "css/app.css").read_bytes()
    with client.get(url, headers={"Accept-Encoding": "gzip, deflate, br, zstd"}) as as_br:
        assert as_br.headers["Content-Encoding"] == "br"
        assert brotli.decompress(as_br.get_data()) == raw
        assert int(as_br.headers["Content-Length"]) == len(as_br.get_data()) < len(raw) / 3
        assert "Accept-Encoding" in as_br.headers["Vary"]
    with client.get(url, headers={"Accept-Encoding": "gzip"}) as as_gzip:
        assert as_gzip.headers["Content-Encoding"] == "gzip" and gzip.decompress(as_gzip.get_data()) == raw
    with client.get(url) as plain:
        assert "Content-Encoding" not in plain.headers  # nothing asked, nothing compressed

    store = make.store()
    signed_in = client_for(make.user("associate", [store]))
    page = signed_in.get("/", headers={"Accept-Encoding": "br"})
    assert page.status_code == 200 and page.headers["Content-Encoding"] == "br"
    html = brotli.decompress(page.get_data()).decode()
    assert len(page.get_data()) < len(html.encode()) / 2
    # Every static file the page names is a versioned URL.
    for link in re.findall(r'(?:href|src)="(/static/[^"]+)"', html):
        assert "?v=" in link, link


def test_no_hash_for_a_missing_file_or_a_path_outside_static(app):
    with app.test_request_context():
        assert assets.static_hash("js/no-such-file.js") is None
        assert assets.static_hash("../pyproject.toml") is None
        assert url_for("static", filename="js/no-such-file.js") == "/static/js/no-such-file.js"
