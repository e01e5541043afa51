"""`flask backup` and `flask restore`: one archive with the database and the media; a restore brings back the data,
the photo and document bytes and a ledger that agrees, and refuses a damaged, foreign or unconfirmed restore without
changing anything. SQLite and PostgreSQL."""

import io
import json
import os
import stat
import tarfile
import threading
from decimal import Decimal
from pathlib import Path

import flask_migrate
import pytest
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from PIL import Image
from sqlalchemy import delete, func, select

from scanapp import create_app
from scanapp.extensions import db
from scanapp.models import Balance, Location, Lot, Movement, Store, User
from scanapp.services import documents, ledger, photos
from scanapp.services.backup import MANIFEST
from scanapp.services.events import new_event_id
from scanapp.services.movements import MoveLine, move_stock
from tests.test_migrations import empty_database  # noqa: F401  (a fixture: a new database on the backend under test)

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def flask(app):
    """flask(*args, input=None): run a flask command; the test's session is closed before and after, so that it
    holds no lock the command waits for and sees only what the command committed."""
    runner = app.test_cli_runner()

    def invoke(*args, input=None):
        db.session.remove()
        result = runner.invoke(args=[str(a) for a in args], input=input)
        db.session.remove()
        return result

    return invoke


@pytest.fixture
def shop(make):
    """A lot of 10 in a safe, 3 of them moved to a showcase, with an inspection photo and a certificate."""
    store = make.store("A")
    safe, case = make.location(store, "SAFE", "safe"), make.location(store, "SC1", "showcase")
    user = make.user("manager", [store])
    lot = make.lot(safe, pieces=10, weight="2.500", weight_unit="ct", category="stone", by=user, number="MELEE")
    move(case, lot, safe, 3, user, store)
    image = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(image, "JPEG")
    photo = photos.save(photos.prepare("ring.jpg", image.getvalue()), by=user, store=store)
    documents.add_document(lot, "cert.pdf", PDF, by=user)
    db.session.commit()
    return {"store": store.id, "safe": safe.id, "case": case.id, "user": user.id, "lot": lot.id, "photo": photo.sha256}


def move(dest: Location, lot: Lot, source: Location, pieces: int, user: User, store: Store) -> None:
    move_stock(dest, [MoveLine(lot=lot, source=source, pieces=pieces)], event_id=new_event_id(), by=user, store=store)


def media(app) -> dict[str, bytes]:
    root = Path(app.config["MEDIA_DIR"])
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def counts() -> dict[str, int]:
    return {name: db.session.scalar(select(func.count()).select_from(m)) for name, m in
            (("lots", Lot), ("movements", Movement), ("balances", Balance))}  # fmt: skip


def balances(shop) -> tuple:
    lot = db.session.get(Lot, shop["lot"])
    return tuple(ledger.balance_at(lot, db.session.get(Location, shop[place])) for place in ("safe", "case"))


def manifest_of(archive: Path) -> dict:
    with tarfile.open(archive) as tar:
        return json.loads(tar.extractfile(MANIFEST).read())


def back_up(flask, directory: Path) -> Path:
    result = flask("backup", "--output", directory)
    assert result.exit_code == 0, result.output
    (archive,) = directory.glob("scanapp-backup-*.tar.gz")
    return archive


def damage(shop, make) -> None:
    """What a restore must undo: a new lot, a further move, a lost balance row, a deleted photo, a changed file."""
    store, user = db.session.get(Store, shop["store"]), db.session.get(User, shop["user"])
    safe, case = db.session.get(Location, shop["safe"]), db.session.get(Location, shop["case"])
    make.lot(safe, pieces=4, by=user)
    move(case, db.session.get(Lot, shop["lot"]), safe, 2, user, store)
    db.session.execute(delete(Balance).where(Balance.location_id == shop["case"]))
    db.session.commit()
    photos.photo_path(shop["photo"]).unlink()
    photos.photo_path(shop["photo"], thumb=True).write_bytes(b"not the thumbnail")


def test_restore_brings_back_the_data_the_media_and_a_clean_ledger(app, shop, flask, make, tmp_path):
    before, files, where = counts(), media(app), balances(shop)
    archive = back_up(flask, tmp_path / "backups")
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    assert list(archive.parent.iterdir()) == [archive]  # no snapshot or partial archive left beside it

    manifest = manifest_of(archive)
    assert manifest["backend"] == db.engine.dialect.name and manifest["counts"] == before
    assert manifest["revision"] == MigrationContext.configure(db.session.connection()).get_current_revision()
    assert {n for n in manifest["files"] if n.startswith("media/")} == {f"media/{n}" for n in files}
    assert len(files) == 3  # the photo, its thumbnail and the certificate

    damage(shop, make)
    assert counts() != before and media(app) != files and ledger.check_ledger() != []

    result = flask("restore", archive, "--yes")
    assert result.exit_code == 0, result.output
    assert f"movements: {before['movements']} (backup: {before['movements']})" in result.output
    assert "Ledger and balances agree." in result.output
    assert counts() == before and balances(shop) == where == ((7, Decimal("2.500")), (3, Decimal("0.000")))
    assert media(app) == files
    assert ledger.check_ledger() == []


def test_backup_never_overwrites_an_archive(app, shop, flask, tmp_path):
    archive = back_up(flask, tmp_path)
    result = flask("backup", "--output", archive)
    assert result.exit_code == 1 and f"{archive} exists already" in result.output
    assert manifest_of(archive)["counts"] == counts()


def rewrite(archive: Path, dest: Path, *, manifest: dict | None = None, member: str | None = None) -> Path:
    """A copy of `archive` with some manifest fields changed, or with other bytes in `member` (its listed
    checksum kept)."""
    with tarfile.open(archive) as source, tarfile.open(dest, "w:gz") as out:
        for info in source.getmembers():
            data = source.extractfile(info).read()
            if info.name == MANIFEST and manifest:
                data = json.dumps({**json.loads(data), **manifest}).encode()
            if info.name == member:
                data = b"changed " + data
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
    return dest


def flipped(archive: Path, dest: Path) -> Path:
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dest.write_bytes(data)
    return dest


def truncated(archive: Path, dest: Path) -> Path:
    dest.write_bytes(archive.read_bytes()[: archive.stat().st_size * 2 // 3])
    return dest


def plain_text(archive: Path, dest: Path) -> Path:
    dest.write_text("just text")
    return dest


def foreign(archive: Path, dest: Path) -> Path:
    with tarfile.open(dest, "w:gz") as tar:
        tar.add(__file__, arcname="notes.txt")
    return dest


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (flipped, "is damaged"),
        (truncated, "is damaged or not a scanapp backup"),
        (foreign, "is not a scanapp backup: it has no manifest.json"),
        (plain_text, "is damaged or not a scanapp backup"),
        (
            lambda a, d: rewrite(a, d, member=next(n for n in manifest_of(a)["files"] if "photos" in n)),
            "does not match its checksum",
        ),
        (
            lambda a, d: rewrite(a, d, manifest={"files": {**manifest_of(a)["files"], "media/docs/x": "0" * 64}}),
            "is incomplete: 1 file(s) missing, e.g. media/docs/x",
        ),
        (
            lambda a, d: rewrite(a, d, manifest={"revision": "0ffffffffff0"}),
            "comes from a newer scanapp (schema revision 0ffffffffff0); update scanapp",
        ),
        (lambda a, d: rewrite(a, d, manifest={"backend": "oracle"}), "is a backup of a oracle database"),
    ],
    ids=[
        "flipped-byte",
        "truncated",
        "foreign",
        "not-gzip",
        "changed-photo",
        "missing-file",
        "newer-schema",
        "other-backend",
    ],
)
def test_a_damaged_or_foreign_archive_changes_nothing(app, shop, flask, make, tmp_path, spoil, message):
    archive = back_up(flask, tmp_path / "backups")
    damage(shop, make)
    before, files = counts(), media(app)

    result = flask("restore", spoil(archive, tmp_path / "spoilt.tar.gz"), "--yes")
    assert result.exit_code == 1
    assert message in result.output
    assert counts() == before and media(app) == files


def test_restore_over_data_asks_first(app, shop, flask, make, tmp_path):
    archive = back_up(flask, tmp_path)
    damage(shop, make)
    before = counts()

    refused = flask("restore", archive, input="n\n")
    assert refused.exit_code == 1
    assert "The database has data, which the restore replaces. Continue? [y/N]: n\nAborted!" in refused.output
    assert counts() == before

    accepted = flask("restore", archive, input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert counts() == manifest_of(archive)["counts"] != before


def test_a_backup_taken_while_movements_are_written_is_consistent(app, shop, flask, tmp_path):
    """A writer moves one piece back and forth, committing each move, before, during and after the backup (which
    a large scanned document keeps busy for a while)."""
    (Path(app.config["MEDIA_DIR"]) / "docs" / "scan").write_bytes(os.urandom(8 * 1024 * 1024))
    stop, written = threading.Event(), []

    def writer():
        with app.app_context():
            store, user = db.session.get(Store, shop["store"]), db.session.get(User, shop["user"])
            lot = db.session.get(Lot, shop["lot"])
            places = [db.session.get(Location, shop["safe"]), db.session.get(Location, shop["case"])]
            while not stop.is_set():
                source, dest = places[len(written) % 2], places[(len(written) + 1) % 2]
                move(dest, lot, source, 1, user, store)
                db.session.commit()
                written.append(1)
            db.session.remove()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 5:
            stop.wait(0.01)
        started = len(written)
        archive = back_up(flask, tmp_path)
        ended = len(written)
        while len(written) < ended + 5:
            stop.wait(0.01)
    finally:
        stop.set()
        thread.join()
    assert ended > started  # the writer did commit while the backup ran

    # The shop had 2 movements (the receipt and the first move); the writer adds one per commit.
    snapshot = manifest_of(archive)["counts"]["movements"]
    assert 2 + started <= snapshot <= 2 + ended < counts()["movements"]
    result = flask("restore", archive, "--yes")
    assert result.exit_code == 0, result.output
    assert counts()["movements"] == snapshot
    assert ledger.check_ledger() == []


def test_restore_into_a_new_database_needs_no_question(app, shop, flask, empty_database, tmp_path):  # noqa: F811
    """The disaster case: a new server with an empty database (no tables yet) and an empty media directory."""
    before, files = counts(), media(app)
    archive = back_up(flask, tmp_path / "backups")
    other = create_app({"SQLALCHEMY_DATABASE_URI": empty_database, "TESTING": True, "SECRET_KEY": "test",
                        "MEDIA_DIR": str(tmp_path / "new-media")})  # fmt: skip
    with other.app_context():
        result = other.test_cli_runner().invoke(args=["restore", str(archive)])
        assert result.exit_code == 0, result.output
        assert "Continue?" not in result.output
        assert counts() == before and media(other) == files and ledger.check_ledger() == []
        db.session.remove()
        db.engine.dispose()


def test_restore_of_an_older_schema_upgrades_it(app, flask, make, empty_database, tmp_path):  # noqa: F811
    """On a database of its own: data at the newest schema, taken back one migration, backed up; the restore
    puts that older database back and upgrades it to this version's schema."""
    other = create_app({"SQLALCHEMY_DATABASE_URI": empty_database, "TESTING": True, "SECRET_KEY": "test",
                        "MEDIA_DIR": str(tmp_path / "media")})  # fmt: skip
    runner = other.test_cli_runner()
    with other.app_context():
        script = ScriptDirectory.from_config(other.extensions["migrate"].migrate.get_config())
        head = script.get_current_head()
        older = script.get_revision(head).down_revision
        flask_migrate.upgrade()
        store = make.store("A")
        make.lot(make.location(store, "SAFE", "safe"), pieces=5, by=make.user("vault", [store]))
        db.session.commit()
        flask_migrate.downgrade(revision=older)
        backed_up = runner.invoke(args=["backup", "--output", str(tmp_path / "old.tar.gz")])
        assert backed_up.exit_code == 0, backed_up.output
        flask_migrate.upgrade()

        result = runner.invoke(args=["restore", str(tmp_path / "old.tar.gz"), "--yes"])
        assert result.exit_code == 0, result.output
        assert f"Upgraded the schema from revision {older}" in result.output
        assert MigrationContext.configure(db.session.connection()).get_current_revision() == head
        assert counts()["lots"] == 1 and ledger.check_ledger() == []
        db.session.remove()
        db.engine.dispose()


def test_postgresql_without_pg_dump_says_how_to_get_it(app, shop, flask, tmp_path):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("pg_dump is needed only for PostgreSQL")
    app.config["PG_BIN"] = str(tmp_path / "media")  # a directory without the client tools
    result = flask("backup", "--output", tmp_path / "backups")
    assert result.exit_code == 1
    assert "pg_dump was not found" in result.output and "apt-get install postgresql-client" in result.output
    assert list((tmp_path / "backups").iterdir()) == []
