"""`make bench`: build a large store fast, serve it with gunicorn as in production and measure it with wrk.

build_data.py fills a fresh database, ceiling.py is the smallest Flask app (the ceiling), run.py drives it all.
"""
