"""flask commands: seed-demo, users, check-ledger, tls-cert, backup, restore."""

import sys
import tempfile
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import select

from scanapp import serving
from scanapp.extensions import db
from scanapp.models import ROLES, Store, User
from scanapp.services import DomainError, backup, demo, ledger, users


def init_app(app: Flask) -> None:
    app.cli.add_command(check_ledger_command)
    app.cli.add_command(users_group)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(tls_cert_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)


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
    if _report_ledger():
        sys.exit(1)


def _report_ledger() -> int:
    """Print each balance that differs from the ledger, or that they agree; returns how many differ."""
    differences = ledger.check_ledger()
    for d in differences:
        click.echo(
            f"lot {d.lot_id} at location {d.location_id}: ledger {d.ledger_pieces} pcs {d.ledger_weight}, "
            f"balance {d.balance_pieces} pcs {d.balance_weight}"
        )
    if differences:
        click.echo(f"{len(differences)} balance(s) differ from the ledger.", err=True)
    else:
        click.echo("Ledger and balances agree.")
    return len(differences)


@click.command("backup")
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    help="A directory, or a file name ending in .tar.gz. Default: instance/backups/scanapp-backup-<UTC time>.tar.gz.",
)
def backup_command(output):
    """Write one archive with a consistent copy of the database and every photo and document."""
    try:
        path, manifest = backup.create_backup(output)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    counts = ", ".join(f"{n} {name}" for name, n in manifest["counts"].items())
    click.echo(f"Backed up to {path}: {counts}, {len(manifest['files']) - 1} media file(s).")


@click.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Replace a database that has data without asking.")
def restore_command(archive, yes):
    """Restore a `flask backup` archive (database and media), then check the ledger; exit 1 on any difference.
    The whole archive is checked first: a damaged or foreign one changes nothing."""
    with tempfile.TemporaryDirectory(prefix="scanapp-restore-") as staging:
        try:
            manifest = backup.open_backup(archive, Path(staging))
        except DomainError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"{archive.name}: a {manifest['backend']} backup of {manifest['created_at']}, checked.")
        if backup.has_data() and not yes:
            click.confirm("The database has data, which the restore replaces. Continue?", abort=True)
        try:
            upgraded_from = backup.restore_backup(manifest, Path(staging))
        except DomainError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"Restored the database and {len(manifest['files']) - 1} media file(s).")
    if upgraded_from:
        click.echo(f"Upgraded the schema from revision {upgraded_from} (flask db upgrade).")
    now = backup.counts()
    for name, n in now.items():
        click.echo(f"{name}: {n} (backup: {manifest['counts'][name]})")
    if _report_ledger() or now != manifest["counts"]:
        sys.exit(1)


@click.group("users")
def users_group():
    """Create, list and deactivate staff accounts; unlock sign-in, reset a password."""


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
    user = _apply(username, users.deactivate_user)
    click.echo(f"Deactivated {user.username}.")


@users_group.command("unlock")
@click.argument("username")
def unlock(username):
    """Lift the sign-in lock that wrong passwords put on an account."""
    user = _apply(username, users.unlock)
    click.echo(f"Unlocked sign-in for {user.username}.")


@users_group.command("reset-password")
@click.argument("username")
@click.password_option()
def reset_password(username, password):
    """Set a new password for a user (for instance the last admin, who forgot theirs)."""
    user = _apply(username, users.reset_password, password)
    click.echo(f"New password set for {user.username}.")


def _apply(username: str, operation, *args) -> User:
    """Run one user operation from the command line (it is audited as such) and commit."""
    user = users.find_user(username)
    if user is None:
        raise click.ClickException(f"No user {username}.")
    try:
        operation(user, *args)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    return user


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
