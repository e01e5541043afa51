"""Tag codes: normalising what was scanned or typed, giving every lot, item and location its code."""

import re
from urllib.parse import urlsplit

from sqlalchemy import select

from scanapp.extensions import db
from scanapp.models import CODE_RE, Count, Item, Location, Lot, Tag, WorkOrder
from scanapp.services import DomainError


def normalise(raw: str) -> str:
    """The canonical form of a typed or scanned bare code: trimmed, upper case. Raises DomainError if invalid."""
    code = (raw or "").strip().upper()
    if not CODE_RE.match(code):
        raise DomainError("A tag code has 1 to 32 letters, digits or dashes.")
    return code


def code_from_scan(raw: str, allowed_hosts: set[str]) -> str:
    """The tag code in a scan: a bare code, or a URL of this app (`https://<host>/t/<code>`, any case).

    URLs of any other host, or of another path, are refused: a tag must never send a phone elsewhere.
    """
    text = (raw or "").strip()
    if "/" not in text and ":" not in text:
        return normalise(text)
    parts = urlsplit(text)
    host = (parts.hostname or "").lower()
    if parts.scheme.lower() not in ("http", "https") or host not in {h.lower() for h in allowed_hosts}:
        raise DomainError("That code points to another site, not to scanapp.")
    match = re.fullmatch(r"/t/([^/]+)/?", parts.path, flags=re.IGNORECASE)
    if not match:
        raise DomainError("That link is not a scanapp tag.")
    return normalise(match.group(1))


def find(code: str) -> Tag | None:
    """The tag with `code` (already normalised), or None."""
    return db.session.scalar(select(Tag).where(Tag.code == code))


def tag_lot(lot: Lot) -> Tag:
    """Give a lot its tag: the lot number itself. Flushes."""
    return _assign(lot.number, "lot", lot=lot)


def tag_item(item: Item) -> Tag:
    """Give an item its tag: its serial when that is a free, valid code (so a supplier's own serial barcode
    scans too), otherwise IT-<id>. Flushes."""
    serial = item.serial.strip().upper()
    if CODE_RE.match(serial) and find(serial) is None:
        return _assign(serial, "item", item=item)
    if item.id is None:
        db.session.flush()
    return _assign(f"IT-{item.id:06d}", "item", item=item)


def tag_location(location: Location) -> Tag:
    """Give a location its tag: <store code>-<location code>. Flushes."""
    return _assign(f"{location.store.code}-{location.code}", "location", location=location)


def tag_work_order(work_order: WorkOrder) -> Tag:
    """Give a work order its tag: WO-<id>, e.g. WO-000123. Flushes."""
    if work_order.id is None:
        db.session.flush()
    return _assign(f"WO-{work_order.id:06d}", "work_order", work_order=work_order)


def tag_count(count: Count) -> Tag:
    """Give a count its tag: its number, CNT-<id>, e.g. CNT-000123. Flushes."""
    if count.id is None:
        db.session.flush()
    return _assign(count.number, "count", count=count)


def _assign(code: str, kind: str, **target) -> Tag:
    code = normalise(code)
    if find(code) is not None:
        raise DomainError(f"The tag code {code} is already in use.", field="code")
    tag = Tag(code=code, kind=kind, **target)
    db.session.add(tag)
    db.session.flush()
    return tag
