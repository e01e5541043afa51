"""scanapp: scan-first stock tracking for jewelry stores."""

from pathlib import Path

from flask import Flask

from scanapp import config
from scanapp.extensions import csrf, db, htmx_ext, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    """The application: settings, extensions, blueprints, CLI and error pages."""
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    config.load(app, test_config)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    htmx_ext.init_app(app)

    from scanapp import cli, views, web

    web.init_app(app)
    views.register(app)
    cli.init_app(app)
    return app
