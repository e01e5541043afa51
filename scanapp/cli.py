"""flask commands: seed-demo, users, check-ledger, tls-cert."""

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import select

from scanapp import serving
from scanapp.extensions import db
from scanapp.models import ROLES, Store, User
from scanapp.services import DomainError, demo, ledger, users


def init_app(app: Flask) -> None:
    app.cli.add_command(check_ledger_command)
    app.cli.add_command(users_group)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(tls_cert_command)


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has a store.")
def seed_demo_command(if_empty):
    """Fill the database with a demo chain: two stores, suppliers, lots and one user of each role."""
    if not demo.is_empty():
        if if_empty:
            click.echo("Database has data already; demo not loaded.")
            return
        raise click.ClickException("The database is not empty; seed the demo only into an empty one.")
    password = current_app.config["DEMO_PASSWORD"]
    people = demo.seed_demo(password)
    db.session.commit()
    click.echo(
        "Demo store loaded. Sign in as "
        + ", ".join(f"{u} ({p.role})" for u, p in people.items())
        + f", password {password}"
    )


@click.command("check-ledger")
def check_ledger_command():
    """Recompute every balance from the ledger; exit 1 on any difference."""
    differences = ledger.check_ledger()
    for d in differences:
        click.echo(
            f"lot {d.lot_id} at location {d.location_id}: ledger {d.ledger_pieces} pcs {d.ledger_weight}, "
            f"balance {d.balance_pieces} pcs {d.balance_weight}"
        )
    if differences:
        click.echo(f"{len(differences)} balance(s) differ from the ledger.", err=True)
        sys.exit(1)
    click.echo("Ledger and balances agree.")


@click.group("users")
def users_group():
    """Create, list and deactivate staff accounts."""


@users_group.command("create")
@click.argument("username")
@click.option("--name", default="", help="Full name shown in the ledger.")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--store", "store_codes", multiple=True, required=True, help="Store code; repeat for several.")
@click.password_option()
def create_user(username, name, role, store_codes, password):
    """Create a user of one or more stores."""
    stores = db.session.scalars(select(Store).where(Store.code.in_([c.upper() for c in store_codes]))).all()
    missing = {c.upper() for c in store_codes} - {s.code for s in stores}
    if missing:
        raise click.ClickException(f"No store with code {', '.join(sorted(missing))}.")
    try:
        user = users.create_user(username, name, role, password, list(stores))
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"Created {user.username} ({user.role}) in {', '.join(s.code for s in user.stores)}.")


@users_group.command("list")
def list_users():
    """List every user with role, stores and whether active."""
    for user in db.session.scalars(select(User).order_by(User.username)):
        state = "active" if user.active else "deactivated"
        click.echo(f"{user.username:<16} {user.role:<10} {','.join(s.code for s in user.stores):<12} {state}")


@users_group.command("deactivate")
@click.argument("username")
def deactivate(username):
    """Stop a user from signing in (their history stays)."""
    user = users.find_user(username)
    if user is None:
        raise click.ClickException(f"No user {username}.")
    users.deactivate_user(user)
    db.session.commit()
    click.echo(f"Deactivated {user.username}.")


@click.command("tls-cert")
@click.option("--force", is_flag=True, help="Make a new certificate even if the one there is still good.")
def tls_cert_command(force):
    """Make the self-signed HTTPS certificate for the store network in instance/tls/, or reuse the one there."""
    directory = current_app.config.get("TLS_DIR") or Path(current_app.instance_path) / "tls"  # SCANAPP_TLS_DIR
    cert = serving.ensure_certificate(Path(directory), force=force)
    state = "Made a new" if cert.created else "Reusing the"
    click.echo(
        f"{state} certificate {cert.cert_path} for {', '.join(cert.names)}, valid until {cert.not_after:%Y-%m-%d}."
    )
