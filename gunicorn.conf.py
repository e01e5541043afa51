"""gunicorn settings: HTTPS on port 8443 on every interface, so phones on the store network can use the camera.

Environment: SCANAPP_PORT (8443), SCANAPP_BIND (0.0.0.0:<port>), SCANAPP_TLS=off (plain HTTP, for running
behind a TLS proxy), SCANAPP_TLS_DIR (instance/tls, made by `flask tls-cert`), WEB_CONCURRENCY (workers).
"""

import gc
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
TLS_DIR = Path(os.environ.get("SCANAPP_TLS_DIR") or ROOT / "instance" / "tls")
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1

chdir = str(ROOT)
wsgi_app = "wsgi:app"
bind = [os.environ.get("SCANAPP_BIND") or f"0.0.0.0:{os.environ.get('SCANAPP_PORT', '8443')}"]
# Sync workers, 2 x cores - 1: measured the fastest on 2 cores (a 4th worker was slower, threads gave long tails).
worker_class = "sync"
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * CORES - 1)
# gunicorn's control socket is one per user ($HOME/.gunicorn/gunicorn.ctl): two checkouts would fight over it.
control_socket_disable = True
if os.environ.get("SCANAPP_TLS", "on").lower() not in ("off", "0", "false", "no"):
    certfile = str(TLS_DIR / "cert.pem")
    keyfile = str(TLS_DIR / "key.pem")


def post_worker_init(worker):
    """Compile every template now, then move all that start-up made (modules, mappers, routes, templates) out of
    the garbage collector's way: without this a full collection walks ~170,000 long-lived objects, 40-50 ms in the
    middle of some request (measured in process on the bench store); with it, 3-8 ms. On SQLite, start this
    worker's checkpoint thread (scanapp/sqlite.py), so that no request copies the WAL back itself."""
    app = worker.wsgi
    env = getattr(app, "jinja_env", None)
    if env is not None:
        for name in env.list_templates(extensions=["html", "txt", "svg", "xml"]):
            env.get_template(name)
    if database := getattr(app, "extensions", {}).get("sqlalchemy"):  # the app's Flask-SQLAlchemy
        from scanapp.sqlite import start_checkpointer

        with app.app_context():
            start_checkpointer(database.engine.url)
    gc.collect()
    gc.freeze()


def when_ready(server):
    """Print where to point a phone (as a URL and a QR code) and the demo sign-ins."""
    from scanapp import create_app
    from scanapp.serving import startup_banner

    text = startup_banner(create_app(), server.cfg.bind, tls=bool(server.cfg.is_ssl), color=sys.stdout.isatty())
    print(text, flush=True)
