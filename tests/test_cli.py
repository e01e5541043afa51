"""flask commands: users, seed-demo, check-ledger, tls-cert."""

import stat

import pytest
from cryptography import x509
from sqlalchemy import func, select, update

from scanapp.extensions import db
from scanapp.models import Balance, Lot, Store, User
from scanapp.services import users
from scanapp.serving import lan_ipv4_addresses, subject_alt_names


@pytest.fixture
def flask(app):
    """flask(*args): run a flask command against the test app; the session is rolled back afterwards so that
    the test sees only what the command committed."""
    runner = app.test_cli_runner()

    def invoke(*args):
        result = runner.invoke(args=list(args))
        db.session.rollback()
        return result

    return invoke


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def stores(make):
    make.store("MAIN")
    make.store("MALL")
    db.session.commit()


def test_users_create(flask, stores):
    result = flask("users", "create", "Vera", "--name", "Vera Vault", "--role", "vault", "--store", "main",
                   "--store", "MALL", "--password", "long-enough-1")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Created vera (vault) in MAIN, MALL." in result.output
    vera = users.find_user("vera")
    assert (vera.name, vera.role, vera.active) == ("Vera Vault", "vault", True)
    assert [s.code for s in vera.stores] == ["MAIN", "MALL"]
    assert users.authenticate("vera", "long-enough-1") == vera


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "boss", "--store", "MAIN", "--password", "long-enough-1"], "Invalid value for '--role'"),
        (["--role", "vault", "--store", "NOPE", "--password", "long-enough-1"], "No store with code NOPE."),
        (["--role", "vault", "--store", "MAIN", "--password", "short"], "A password has at least 8 characters."),
        (["--role", "vault", "--password", "long-enough-1"], "Missing option '--store'"),
    ],
    ids=["bad-role", "unknown-store", "short-password", "no-store"],
)
def test_users_create_refuses_bad_input_and_writes_nothing(flask, stores, args, message):
    result = flask("users", "create", "vera", *args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert count(User) == 0


def test_users_create_refuses_a_taken_username(flask, stores):
    first = flask("users", "create", "vera", "--role", "vault", "--store", "MAIN", "--password", "long-enough-1")
    assert first.exit_code == 0
    result = flask("users", "create", "VERA", "--role", "bench", "--store", "MAIN", "--password", "long-enough-2")
    assert result.exit_code == 1 and "The username vera is taken." in result.output
    assert count(User) == 1 and users.find_user("vera").role == "vault"


def test_users_list_and_deactivate(flask, make):
    main = make.store("MAIN")
    make.user("associate", [main], username="alex")
    make.user("manager", [main], username="maria")
    db.session.commit()

    result = flask("users", "deactivate", "alex")
    assert result.exit_code == 0 and "Deactivated alex." in result.output
    assert users.find_user("alex").active is False
    assert users.authenticate("alex", "correct-horse") is None

    lines = flask("users", "list").output.splitlines()
    assert lines[0].split() == ["alex", "associate", "MAIN", "deactivated"]
    assert lines[1].split() == ["maria", "manager", "MAIN", "active"]

    result = flask("users", "deactivate", "nobody")
    assert result.exit_code == 1 and "No user nobody." in result.output


def test_seed_demo_then_if_empty_is_a_no_op_and_the_ledger_is_clean(app, flask):
    result = flask("seed-demo")
    assert result.exit_code == 0, result.output
    assert "Demo store loaded." in result.output and app.config["DEMO_PASSWORD"] in result.output
    assert count(Store) == 2 and count(User) == 5
    lots = count(Lot)
    assert lots >= 5
    assert users.authenticate("maria", app.config["DEMO_PASSWORD"]) is not None

    again = flask("seed-demo", "--if-empty")
    assert again.exit_code == 0 and "demo not loaded" in again.output
    assert (count(Store), count(User), count(Lot)) == (2, 5, lots)

    refused = flask("seed-demo")
    assert refused.exit_code == 1 and "not empty" in refused.output
    assert count(Lot) == lots

    check = flask("check-ledger")
    assert check.exit_code == 0 and "Ledger and balances agree." in check.output


def test_seed_demo_if_empty_loads_into_an_empty_database(flask):
    result = flask("seed-demo", "--if-empty")
    assert result.exit_code == 0 and "Demo store loaded." in result.output
    assert count(Store) == 2


def test_check_ledger_reports_a_tampered_balance(flask):
    flask("seed-demo")
    balance = db.session.scalars(select(Balance).where(Balance.pieces > 0).order_by(Balance.id)).first()
    db.session.execute(update(Balance).where(Balance.id == balance.id).values(pieces=Balance.pieces + 1))
    db.session.commit()
    result = flask("check-ledger")
    assert result.exit_code == 1
    assert f"lot {balance.lot_id} at location {balance.location_id}:" in result.output
    assert "1 balance(s) differ from the ledger." in result.output


def test_tls_cert_is_made_once_and_reused(app, flask, tmp_path):
    app.config["TLS_DIR"] = str(tmp_path / "tls")
    cert_path, key_path = tmp_path / "tls" / "cert.pem", tmp_path / "tls" / "key.pem"

    made = flask("tls-cert")
    assert made.exit_code == 0, made.output
    assert made.output.startswith("Made a new certificate")
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    names = subject_alt_names(cert)
    assert {"localhost", "127.0.0.1", *lan_ipv4_addresses()} <= set(names)
    assert 729 <= (cert.not_valid_after_utc - cert.not_valid_before_utc).days <= 731
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    first = cert_path.read_bytes()

    reused = flask("tls-cert")
    assert reused.exit_code == 0 and reused.output.startswith("Reusing the certificate")
    assert cert_path.read_bytes() == first

    forced = flask("tls-cert", "--force")
    assert forced.output.startswith("Made a new certificate")
    assert cert_path.read_bytes() != first
