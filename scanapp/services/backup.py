"""Backups: one archive file with a consistent copy of the database and every media file, and the way back.

The archive (tar.gz) holds the database first, then media/… (photos and documents) and last manifest.json: format,
creation time, backend, schema revision, counts of lots, movements and balances, and the sha256 of every other
member. The database copy is one consistent snapshot taken while the app serves: SQLite's online backup API, or
`pg_dump` of an exported snapshot in which the manifest's counts are read too. Media are copied after it, so every
file the database names is there (a file stored since is a harmless extra). A restore checks the whole archive
before it changes anything.
"""

import gzip
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import zlib
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import flask_migrate
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import Connection, create_engine, func, inspect, literal, select, text
from sqlalchemy.engine import make_url

from scanapp.extensions import db
from scanapp.models import Balance, Lot, Movement
from scanapp.services import DomainError

FORMAT = "scanapp-backup"
VERSION = 1
MANIFEST = "manifest.json"
DATABASE = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
COUNTED = {"lots": Lot, "movements": Movement, "balances": Balance}
CHUNK = 1024 * 1024


def create_backup(output: Path | None = None) -> tuple[Path, dict]:
    """Write one archive of the database and the media into `output`: a directory (made if needed; by default
    instance/backups), or a file name ending in .tar.gz. Returns its path and manifest. The archive is readable
    only by its owner: it holds password hashes and every record of the business."""
    target = _archive_path(output)
    if target.exists():
        raise DomainError(f"{target} exists already; choose another name.")
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    backend = db.engine.dialect.name
    snapshot = target.with_name(f".{target.name}.{DATABASE[backend]}")
    partial = target.with_name(f".{target.name}.partial")
    try:
        facts = _snapshot_sqlite(snapshot) if backend == "sqlite" else _snapshot_postgresql(snapshot)
        files = {DATABASE[backend]: _sha256(snapshot)}
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            with snapshot.open("rb") as copy:
                _add(tar, DATABASE[backend], copy, snapshot.stat().st_size)
            for name, path in _media_files():
                data = path.read_bytes()
                files[name] = hashlib.sha256(data).hexdigest()
                _add(tar, name, io.BytesIO(data), len(data))
            manifest = {
                "format": FORMAT,
                "version": VERSION,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "backend": backend,
                **facts,
                "files": files,
            }
            listing = json.dumps(manifest, indent=2).encode()
            _add(tar, MANIFEST, io.BytesIO(listing), len(listing))
        partial.replace(target)
    finally:
        snapshot.unlink(missing_ok=True)
        partial.unlink(missing_ok=True)
    return target, manifest


def open_backup(archive: Path, staging: Path) -> dict:
    """Check an archive completely and unpack it into the empty directory `staging`: its manifest, that every
    member is listed there with its sha256, that it is a backup of this kind of database and of a schema this
    version of scanapp knows. Returns the manifest; DomainError, with nothing changed, otherwise."""
    try:
        with gzip.open(archive) as whole:  # its checksum covers every byte, even where a tar reader stops early
            while whole.read(CHUNK):
                pass
        with tarfile.open(archive, "r:gz") as tar:
            manifest = _read_manifest(tar, archive.name)
            unpacked = set()
            for member in tar.getmembers():
                if member.name != MANIFEST:
                    _unpack(tar, member, manifest["files"], staging)
                    unpacked.add(member.name)
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, ValueError) as error:
        raise DomainError(f"{archive.name} is damaged or not a scanapp backup ({error}).") from None
    if missing := sorted(manifest["files"].keys() - unpacked):
        raise DomainError(f"{archive.name} is incomplete: {len(missing)} file(s) missing, e.g. {missing[0]}.")
    return manifest


def restore_backup(manifest: dict, staging: Path) -> str | None:
    """Replace the database and write the media from an archive that `open_backup` checked and unpacked into
    `staging`; then upgrade the schema if the backup is of an older revision. Returns that older revision, if any.
    Media go first: a file written before a failure is harmless, since files are named by their content."""
    _restore_media(staging / "media")
    db.session.remove()
    db.engine.dispose()  # no pooled connection may hold the old database open
    snapshot = staging / DATABASE[manifest["backend"]]
    if manifest["backend"] == "sqlite":
        with closing(sqlite3.connect(snapshot)) as copy, closing(sqlite3.connect(_sqlite_path(), timeout=30)) as live:
            copy.backup(live)
    else:
        script = staging / "restore.sql"
        _pg("pg_restore", "--no-owner", "--no-privileges", f"--file={script}", str(snapshot), database=False)
        # One transaction: an empty schema (tables of a newer schema go too), then the dump; an error changes nothing.
        empty = ("--command=DROP SCHEMA IF EXISTS public CASCADE", "--command=CREATE SCHEMA public")
        _pg(
            "psql",
            "--no-psqlrc",
            "--quiet",
            "--set=ON_ERROR_STOP=1",
            "--single-transaction",
            *empty,
            f"--file={script}",
        )
    db.engine.dispose()
    revision = manifest.get("revision")
    if revision and revision != _migrations().get_current_head():
        flask_migrate.upgrade()
        return revision
    return None


def has_data() -> bool:
    """Whether any of the app's tables holds a row (a new database, without tables, has none)."""
    present = set(inspect(db.engine).get_table_names())
    return any(
        db.session.scalar(select(literal(1)).select_from(table).limit(1))
        for table in db.metadata.sorted_tables
        if table.name in present
    )


def counts() -> dict[str, int]:
    """Lots, movements and balances in the database now, to compare with a manifest's counts."""
    return _counts(db.session.connection())


def _archive_path(output: Path | None) -> Path:
    name = f"scanapp-backup-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.tar.gz"
    if output is None:
        return Path(current_app.instance_path) / "backups" / name
    return output if output.name.endswith(".tar.gz") else output / name


def _snapshot_sqlite(dest: Path) -> dict:
    """Copy the live SQLite database with the online backup API (one step: a consistent snapshot, and writers carry
    on meanwhile under WAL); the counts and revision are read from the copy."""
    source = _sqlite_path()
    if not source.is_file():
        raise DomainError(f"There is no database at {source} to back up.")
    with closing(sqlite3.connect(source, timeout=30)) as live, closing(sqlite3.connect(dest)) as copy:
        live.backup(copy)
    engine = create_engine(f"sqlite:///{dest}")
    try:
        with engine.connect() as conn:
            return _facts(conn)
    finally:
        engine.dispose()


def _snapshot_postgresql(dest: Path) -> dict:
    """pg_dump of a snapshot exported by a transaction that reads the counts and revision in that same snapshot."""
    with db.engine.connect() as conn:
        conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot = conn.scalar(text("SELECT pg_export_snapshot()"))
            facts = _facts(conn)
            _pg("pg_dump", "--format=custom", f"--snapshot={snapshot}", f"--file={dest}")
    return facts


def _facts(conn: Connection) -> dict:
    return {"revision": MigrationContext.configure(conn).get_current_revision(), "counts": _counts(conn)}


def _counts(conn: Connection) -> dict[str, int]:
    return {name: conn.scalar(select(func.count()).select_from(model)) for name, model in COUNTED.items()}


def _sqlite_path() -> Path:
    database = db.engine.url.database
    if not database or database == ":memory:":
        raise DomainError("The database is in memory; only a database file can be backed up or restored.")
    return Path(database)


def _pg(tool: str, *args: str, database: bool = True) -> None:
    """Run a PostgreSQL client tool, on the app's database unless `database` is false. The password goes in the
    environment, never on the command line. DomainError with the tool's message when it is missing or fails."""
    executable = shutil.which(tool, path=current_app.config["PG_BIN"] or None)
    if executable is None:
        raise DomainError(
            f"{tool} was not found. Install the PostgreSQL client tools of the server's major version or newer "
            "(Debian: apt-get install postgresql-client), or set SCANAPP_PG_BIN to the directory that has them."
        )
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    if database:
        libpq = url._replace(drivername="postgresql", password=None)  # the SQLAlchemy URL without "+psycopg"
        args = (*args, f"--dbname={libpq.render_as_string(hide_password=False)}")
    done = subprocess.run([executable, *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise DomainError(f"{tool} failed: {done.stderr.strip() or f'exit status {done.returncode}'}")


def _media_files() -> list[tuple[str, Path]]:
    """Every file under MEDIA_DIR as (archive name, path); *.tmp files are writes in progress and are left out."""
    media = Path(current_app.config["MEDIA_DIR"])
    paths = sorted(p for p in media.rglob("*") if p.is_file() and p.suffix != ".tmp")
    return [(f"media/{p.relative_to(media).as_posix()}", p) for p in paths]


def _add(tar: tarfile.TarFile, name: str, data: io.IOBase, size: int) -> None:
    """One member, readable by its owner only."""
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = int(datetime.now(UTC).timestamp())
    info.mode = 0o600
    tar.addfile(info, data)


def _sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _read_manifest(tar: tarfile.TarFile, name: str) -> dict:
    """The archive's manifest, refused unless it is ours, of a format, backend and schema this code can restore."""
    try:
        member = tar.getmember(MANIFEST)
    except KeyError:
        raise DomainError(f"{name} is not a scanapp backup: it has no {MANIFEST}.") from None
    manifest = json.loads(tar.extractfile(member).read()) if member.isfile() else None
    if (
        not isinstance(manifest, dict)
        or manifest.get("format") != FORMAT
        or not isinstance(manifest.get("files"), dict)
        or not isinstance(manifest.get("counts"), dict)
    ):
        raise DomainError(f"{name} is not a scanapp backup.")
    if manifest.get("version") != VERSION:
        raise DomainError(f"{name} is a backup format (version {manifest.get('version')}) this scanapp cannot read.")
    backend = db.engine.dialect.name
    if manifest.get("backend") != backend:
        raise DomainError(
            f"{name} is a backup of a {manifest.get('backend')} database and the app uses {backend}; "
            "restore it into the same kind of database (set DATABASE_URL)."
        )
    if DATABASE[backend] not in manifest["files"]:
        raise DomainError(f"{name} is incomplete: it has no database.")
    revision = manifest.get("revision")
    if revision and revision not in {script.revision for script in _migrations().walk_revisions()}:
        raise DomainError(
            f"{name} comes from a newer scanapp (schema revision {revision}); update scanapp, then restore it."
        )
    return manifest


def _unpack(tar: tarfile.TarFile, member: tarfile.TarInfo, hashes: dict, staging: Path) -> None:
    """Write one member into `staging` if the manifest lists it and its bytes have the listed sha256."""
    path = PurePosixPath(member.name)
    safe = str(path) == member.name and ".." not in path.parts and not path.is_absolute()
    ours = member.name in DATABASE.values() or (path.parts[:1] == ("media",) and len(path.parts) > 1)
    if not (member.isfile() and safe and ours and member.name in hashes):
        raise DomainError(f"The archive has a file its manifest does not list: {member.name}.")
    dest = staging / path
    dest.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with tar.extractfile(member) as source, dest.open("wb") as out:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != hashes[member.name]:
        raise DomainError(f"The archive is damaged: {member.name} does not match its checksum.")


def _restore_media(staged: Path) -> None:
    """Write every media file of the backup into MEDIA_DIR, each replaced in one step; other files stay."""
    media = Path(current_app.config["MEDIA_DIR"])
    for source in sorted(p for p in staged.rglob("*") if p.is_file()):
        dest = media / source.relative_to(staged)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f"{dest.name}.tmp")
        shutil.copyfile(source, tmp)
        tmp.replace(dest)


def _migrations() -> ScriptDirectory:
    return ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())
