"""Scanning: what a scanned, typed or photographed code stands for, and reading codes from a photo."""

import io
import warnings
from dataclasses import dataclass, field
from functools import cache
from urllib.parse import urlsplit

import pillow_heif
import zxingcpp
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import ColumnElement, Select, bindparam, func, or_, select
from sqlalchemy.orm import aliased, contains_eager, joinedload

from scanapp.extensions import db
from scanapp.models import Balance, Count, Item, Location, Lot, Tag, User, WorkOrder
from scanapp.services import DomainError, history, ledger, tags

pillow_heif.register_heif_opener()  # iPhones upload HEIC

# Only the symbologies our tags carry: fewer formats is faster and never mistakes a product barcode for a tag.
FORMATS = (zxingcpp.BarcodeFormat.QRCode, zxingcpp.BarcodeFormat.Code128, zxingcpp.BarcodeFormat.DataMatrix)
MAX_PHOTO_BYTES = 30 * 1024 * 1024
MAX_PIXELS = 60_000_000  # a 48 MP phone photo passes; a decompression bomb does not
MAX_SIDE = 2000  # a photo is read at most this size first (then its middle, twice as close)
SHOWN_AT_A_PLACE = 20  # lots, and items, that a place's scan lists: a safe holds thousands
NO_CODE = "No code found in that photo — try closer, with the tag flat and in focus."


class UnknownCode(DomainError):
    """No lot, item or location the user may see carries this code."""

    def __init__(self, code: str):
        super().__init__(f"No tag {code}: it is not on any lot, item or place of your stores.")
        self.code = code


@dataclass(frozen=True)
class Found:
    """What a code stands for: exactly one of lot, item or location, as `kind` says."""

    code: str
    kind: str
    lot: Lot | None = None
    item: Item | None = None
    location: Location | None = None
    work_order: WorkOrder | None = None
    count: Count | None = None

    @property
    def label(self) -> str:
        """One line naming what was found, for the list of recent scans."""
        if self.lot is not None:
            return f"Lot {self.code} · {self.lot.description}"
        if self.item is not None:
            return f"Item {self.code} · {self.item.description or self.item.lot.description}"
        if self.work_order is not None:
            return f"Job {self.code} · {self.work_order.description}"
        if self.count is not None:
            return f"Count {self.code} · {self.count.place_name}"
        return f"Place {self.code} · {self.location.name}"


@dataclass(frozen=True)
class Lookup:
    """A found thing and what the lookup page shows about it."""

    found: Found
    # Lot: where its pieces are (the supplier side left out). Location: the lots there. Item: none (one place).
    balances: list[Balance] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)  # location: the items there now
    more: bool = False  # location: it holds more lots or items than listed (its page has them all)


def tag_hosts(tag_host: str, request_host: str) -> set[str]:
    """The host names a tag URL may carry: the configured TAG_HOST and the host the request came to."""
    names = {urlsplit(f"//{h.strip()}").hostname for h in (tag_host or "", request_host or "") if h.strip()}
    return {name for name in names if name}


def resolve(raw: str, *, by: User, hosts: set[str]) -> Found:
    """The lot, item or location a scan stands for: a bare code (any case) or a URL of this app.

    Raises DomainError for anything that is not one of our codes, and UnknownCode when no tag carries the code or
    it belongs to a store the user is not in (other stores' things are not even confirmed to exist).
    """
    return _find(tags.code_from_scan(raw, hosts), by)


def lookup(raw: str, *, by: User, hosts: set[str]) -> Lookup:
    """Resolve a scan and gather what the lookup page shows: where the pieces are, or what a place holds."""
    found = _find(tags.code_from_scan(raw, hosts), by, shown=True)
    if found.location is not None:
        lots, items = _lots_at(found.location), _items_at(found.location)
        more = len(lots) > SHOWN_AT_A_PLACE or len(items) > SHOWN_AT_A_PLACE
        return Lookup(found, lots[:SHOWN_AT_A_PLACE], items[:SHOWN_AT_A_PLACE], more)
    if found.lot is not None:
        return Lookup(found, [b for b in ledger.balances_of(found.lot) if b.location.kind != "supplier"])
    return Lookup(found)


def decode_image(data: bytes) -> str:
    """The text of the first QR, Code 128 or DataMatrix code in a photo (JPEG, PNG, HEIC, WebP…).

    The photo is turned upright (EXIF), reduced to MAX_SIDE and read; if nothing is found, it is read again twice
    as close (the middle of a large photo), which rescues small, blurred or tilted codes. Raises DomainError with a
    message for the person holding the phone.
    """
    image = _open_photo(data)
    for attempt in _attempts(image):
        codes = zxingcpp.read_barcodes(attempt, formats=FORMATS)
        if codes:
            return codes[0].text
    raise DomainError(NO_CODE, field="photo")


def _find(code: str, user: User, *, shown: bool = False) -> Found:
    """The tag `code` as a Found, in one statement: the tag, what it is on (an item with its lot) and whether
    `user` may see it; `shown` loads as well what the lookup page shows (the lot's supplier, the item's place).
    The store of a place comes from the user's stores, loaded with the user (a place is seen only in them); an
    item's place comes with its store, as an item of the user's lot may sit in a store they are not in (sent there,
    or sold by it: half the item lookups of the bench store). Raises UnknownCode when there is no such tag or `user`
    may not see what it is on."""
    row = db.session.execute(_tag_query(shown), {"code": code, "store_ids": list(user.store_ids)}).first()
    if row is None or not row.visible:
        raise UnknownCode(code)
    tag = row.Tag
    return Found(
        code=code,
        kind=tag.kind,
        lot=tag.lot,
        item=tag.item,
        location=tag.location,
        work_order=tag.work_order,
        count=tag.count,
    )


# The statements below are built once (`cache`): a new statement object has its cache key computed again on every
# request, which for these costs more than running them. The user's stores are the bound list `store_ids`.

# The tag's own lot, an item's lot and a place, each under its own name: `_visible` reads `lots` and `locations` in
# subqueries of its own.
_TagLot = aliased(Lot, name="tag_lot")
_ItemLot = aliased(Lot, name="item_lot")
_Place = aliased(Location, name="place")


@cache
def _tag_query(shown: bool) -> Select:
    """`_find`'s statement: the tag with what it is on, and `visible`."""
    tag_lot = contains_eager(Tag.lot.of_type(_TagLot))
    item = contains_eager(Tag.item)
    item_lot = item.contains_eager(Item.lot.of_type(_ItemLot))
    place = contains_eager(Tag.location.of_type(_Place))
    options = [tag_lot, item_lot, place]
    if shown:
        options += [
            tag_lot.joinedload(_TagLot.supplier),
            item_lot.joinedload(_ItemLot.supplier),
            item.joinedload(Item.location).joinedload(Location.store),
        ]
    return (
        select(Tag, _visible().label("visible"))
        .outerjoin(Tag.lot.of_type(_TagLot))
        .outerjoin(Tag.item)
        .outerjoin(Item.lot.of_type(_ItemLot))
        .outerjoin(Tag.location.of_type(_Place))
        .where(Tag.code == bindparam("code"))
        .options(*options)
    )


def _visible() -> ColumnElement[bool]:
    """May the user (`store_ids`) see what the tag is on? A place, a job or a count: of one of their stores. A lot
    or an item: by the same rule as the lot and item pages (the lot received by, or holding stock in, one of their
    stores). For a query of `tags` outer-joined to `items` (an item's lot is `items.lot_id`)."""
    store_ids = bindparam("store_ids", expanding=True)

    def of_their_store(model, column) -> ColumnElement[bool]:
        return select(model.id).where(model.id == column, model.store_id.in_(store_ids)).exists()

    lot_visible = (
        select(Lot.id).where(Lot.id == func.coalesce(Tag.lot_id, Item.lot_id), history.visible_lots(store_ids)).exists()
    )
    return or_(
        of_their_store(Location, Tag.location_id),
        of_their_store(WorkOrder, Tag.work_order_id),
        of_their_store(Count, Tag.count_id),
        lot_visible,
    )


def _lots_at(location: Location) -> list[Balance]:
    """The first non-zero balances at a location, by lot number (one more than shown, to tell if there are more)."""
    return list(db.session.scalars(_lots_at_query(), {"location_id": location.id, "limit": SHOWN_AT_A_PLACE + 1}))


def _items_at(location: Location) -> list[Item]:
    """The first active items at a location, by serial (one more than shown, to tell if there are more)."""
    return list(db.session.scalars(_items_at_query(), {"location_id": location.id, "limit": SHOWN_AT_A_PLACE + 1}))


@cache
def _lots_at_query() -> Select:
    return (
        select(Balance)
        .join(Balance.lot)
        .options(contains_eager(Balance.lot))
        .where(Balance.location_id == bindparam("location_id"), (Balance.pieces != 0) | (Balance.weight != 0))
        .order_by(Lot.number)
        .limit(bindparam("limit"))
    )


@cache
def _items_at_query() -> Select:
    return (
        select(Item)
        .where(Item.location_id == bindparam("location_id"), Item.active)
        .options(joinedload(Item.lot))
        .order_by(Item.serial)
        .limit(bindparam("limit"))
    )


def _open_photo(data: bytes) -> Image.Image:
    """The uploaded bytes as an upright greyscale image, or a DomainError."""
    if not data:
        raise DomainError("That file is empty. Take or choose a photo of the tag.", field="photo")
    if len(data) > MAX_PHOTO_BYTES:
        raise DomainError(f"That photo is over {MAX_PHOTO_BYTES // 2**20} MB. Take a smaller one.", field="photo")
    too_large = DomainError("That image is too large to read. Take a normal photo of the tag.", field="photo")
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its two bomb limits; treat a warning as the refusal it should be.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.width * image.height > MAX_PIXELS:
                raise too_large
            image.draft("L", (2 * MAX_SIDE, 2 * MAX_SIDE))  # JPEG: decode no larger than the attempts need
            image = ImageOps.exif_transpose(image).convert("L")
    except UnidentifiedImageError:
        raise DomainError("That file is not a photo. Take or choose a picture of the tag.", field="photo") from None
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise too_large from None
    except (OSError, ValueError, SyntaxError, EOFError):
        raise DomainError("That photo could not be read: it is damaged or cut off. Take it again.") from None
    return image


def _attempts(image: Image.Image):
    """The photo at most MAX_SIDE, then twice as close: the middle half of a large photo (at its own resolution
    where it has the pixels), or the whole of a small one, enlarged."""
    view = image.copy()
    view.thumbnail((MAX_SIDE, MAX_SIDE))
    yield view
    w, h = image.size
    if max(w, h) > MAX_SIDE // 2:
        image = image.crop((w // 4, h // 4, w - w // 4, h - h // 4))
    scale = 2 * view.width / w
    yield image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.BICUBIC)
