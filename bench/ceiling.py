"""The ceiling: the smallest Flask app that answers with a small HTML page, served by the same gunicorn settings
as scanapp. No app can be faster than this on this machine; scanapp's figures are read as a share of it.

    SCANAPP_TLS=off SCANAPP_BIND=127.0.0.1:8001 gunicorn -c gunicorn.conf.py bench.ceiling:app
"""

from flask import Flask

app = Flask(__name__)
PAGE = (
    "<!doctype html><html lang=en><head><meta charset=utf-8><title>ceiling</title></head>"
    "<body><h1>Lot LOT-0001</h1><p>10 pcs in Main Street, safe 1.</p></body></html>"
)


@app.get("/")
def page():
    return PAGE


@app.get("/healthz")
def healthz():
    return {"status": "ok"}
