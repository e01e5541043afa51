"""Sending pages and static files light: compressed responses, and static files cached for good under versioned
names.

- Every text response (HTML, htmx fragments, CSS, JS, JSON, SVG) is compressed as the browser asks (br, else
  gzip) by Flask-Compress.
- `url_for('static', filename=...)` appends `?v=<hash of the file's content>`; a request that carries the file's
  current hash is answered with `Cache-Control: public, max-age=31536000, immutable`, so a phone loads each
  version of app.css or htmx once. A changed file gets a new hash, hence a new URL, on the next page.
"""

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import Flask, current_app, request
from flask_compress import Compress

YEAR = 365 * 24 * 3600
HASH_CHARS = 12

compress = Compress()
_hashes: dict[Path, tuple[int, int, str]] = {}  # path -> (mtime_ns, size, hash)


def init_app(app: Flask) -> None:
    """Compress responses and version static URLs (once per app)."""
    if "scanapp.assets" in app.extensions:
        return
    app.extensions["scanapp.assets"] = True
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    compress.init_app(app)
    app.url_defaults(_version_static_urls)
    app.after_request(_static_response)  # runs before the compression (after_request hooks run last first)


def static_hash(filename: str) -> str | None:
    """The first characters of the SHA-256 of a static file's content, or None when there is no such file.
    Kept per process and computed again only when the file's size or modification time changes."""
    path = _static_path(current_app.static_folder, filename)
    if path is None:
        return None
    try:
        stat = path.stat()
    except OSError:
        return None
    known = _hashes.get(path)
    if known is not None and known[:2] == (stat.st_mtime_ns, stat.st_size):
        return known[2]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:HASH_CHARS]
    _hashes[path] = (stat.st_mtime_ns, stat.st_size, digest)
    return digest


@lru_cache(maxsize=512)  # bounded: a request may name any file
def _static_path(folder: str, filename: str) -> Path | None:
    """Where `filename` is in the static folder, or None when it would lead out of it. Kept: resolving a path
    looks at each of its folders, and a page names its stylesheet and scripts on every request."""
    root = Path(folder).resolve()
    path = (root / filename).resolve()
    return path if path.is_relative_to(root) else None


def _version_static_urls(endpoint: str, values: dict) -> None:
    if endpoint == "static" and "v" not in values and "filename" in values:
        version = static_hash(values["filename"])
        if version:
            values["v"] = version


def _static_response(response):
    """A static file asked for by its current version never changes: let browsers keep it a year, unasked.

    A text file is read whole here, so that it is compressed as one body with its length (and its file closed
    at once), not as a stream."""
    if request.endpoint != "static" or response.status_code not in (200, 304):
        return response
    if response.status_code == 200 and response.mimetype in current_app.config["COMPRESS_MIMETYPES"]:
        response.direct_passthrough = False
        response.make_sequence()
    filename = (request.view_args or {}).get("filename", "")
    if request.args.get("v") and request.args["v"] == static_hash(filename):
        response.cache_control.public = True
        response.cache_control.max_age = YEAR
        response.cache_control.immutable = True
        response.cache_control.no_cache = None
    return response
