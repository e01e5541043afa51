"""Printed tags: the QR, Code 128 and DataMatrix images of a tag code, label images, ZPL for Zebra printers, and
which tags a user may print.

A QR holds the upper-case URL `HTTPS://<HOST>/T/<CODE>`: upper case keeps the whole payload in QR alphanumeric
mode (a smaller symbol), and a phone's own camera opens it. It is version 2 at least (version 1 has no alignment
pattern and reads badly on a curved or tilted tag) with error correction M. Code 128 and DataMatrix hold the bare
code, for keyboard-wedge scanners and the tiniest tags.
"""

import io
import re
import textwrap
from functools import cache

import qrcode
import zxingcpp
from barcode import Code128
from barcode.writer import ImageWriter
from flask import current_app, request
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select

from scanapp.extensions import db
from scanapp.models import Balance, Location, Lot, Store, Tag, User
from scanapp.services import DomainError, tags

QR_MIN_VERSION = 2
QR_QUIET_ZONE = 4  # modules on each side, as the QR standard requires
FONT_DIR = "/usr/share/fonts/truetype"
FONTS = {
    "bold": ("dejavu/DejaVuSans-Bold.ttf", "liberation/LiberationSans-Bold.ttf"),
    "regular": ("dejavu/DejaVuSans.ttf", "liberation/LiberationSans-Regular.ttf"),
}

# A 2.20 × 0.50 in jewelry barbell tag at 203 dpi: two printable flaps joined by a thin tail that goes round the
# piece. The left flap carries the QR, the right one the code and a short description.
ZPL_WIDTH, ZPL_HEIGHT = 447, 102
ZPL_FLAP = 175  # dots, about 0.86 in
ZPL_TEXT_X = ZPL_WIDTH - ZPL_FLAP + 4
ZPL_QR_MAGNIFICATION = 2  # 2 dots per module at 203 dpi: 0.25 mm modules, 8.2 mm for a version 2 QR with quiet zone


class TagNotFound(DomainError):
    """No tag with that code that this user may see: unknown, malformed, or of another store."""


def tag_host() -> str:
    """The host printed in tag URLs: the TAG_HOST setting, else the host this request came to."""
    return current_app.config.get("TAG_HOST") or request.host


def tag_url(code: str, host: str | None = None) -> str:
    """The URL a tag's QR holds, all upper case: `HTTPS://<HOST>/T/<CODE>`."""
    return f"HTTPS://{host or tag_host()}/T/{code}".upper()


def qr_symbol(code: str, host: str | None = None) -> qrcode.QRCode:
    """The QR symbol of a tag's URL: version 2 or larger when the URL needs it, error correction M."""
    symbol = qrcode.QRCode(
        version=QR_MIN_VERSION, error_correction=qrcode.constants.ERROR_CORRECT_M, border=QR_QUIET_ZONE
    )
    symbol.add_data(tag_url(code, host))
    symbol.make(fit=True)
    return symbol


def qr_png(code: str, host: str | None = None, module_px: int = 10) -> bytes:
    """PNG of the tag's QR, `module_px` pixels per module, quiet zone included."""
    symbol = qr_symbol(code, host)
    symbol.box_size = module_px
    return _png(symbol.make_image().get_image())


def code128_png(code: str) -> bytes:
    """PNG of a Code 128 barcode of the bare code, with the code printed under it (0.254 mm bars at 300 dpi)."""
    options = {"module_width": 0.254, "module_height": 8, "quiet_zone": 3, "font_size": 9, "text_distance": 3.5}
    return _png(Code128(code, writer=ImageWriter()).render(options))


def datamatrix_png(code: str, module_px: int = 10) -> bytes:
    """PNG of a DataMatrix of the bare code, for tags too small for the QR; quiet zone of one module."""
    symbol = zxingcpp.create_barcode(code, zxingcpp.BarcodeFormat.DataMatrix)
    return _png(Image.fromarray(symbol.to_image(scale=module_px, add_quiet_zones=True)))


def describe(tag: Tag) -> str:
    """The short line printed beside a tag's code: the lot's description, the item's serial (when it is not the
    code) and description, or the location's name."""
    if tag.lot is not None:
        return tag.lot.description
    if tag.item is not None:
        item = tag.item
        text = item.description or item.lot.description
        return text if item.serial.upper() == tag.code else f"{item.serial} · {text}"
    if tag.work_order is not None:  # a bench job's bag: the customer and what to do
        return " · ".join(filter(None, [tag.work_order.customer_reference, tag.work_order.description]))
    return tag.location.name


def label_png(tag: Tag, host: str | None = None, module_px: int = 8) -> bytes:
    """One printable label image: the QR on the left, the code in bold and the description (two lines at most)
    on the right."""
    symbol = qr_symbol(tag.code, host)
    symbol.box_size = module_px
    qr = symbol.make_image().get_image().convert("L")
    side = qr.height
    text_width = side * 2
    label = Image.new("L", (side + text_width, side), 255)
    label.paste(qr, (0, 0))
    draw = ImageDraw.Draw(label)
    code_font = _fitting_font("bold", tag.code, text_width - module_px * 2, start=side // 4)
    draw.text((side, side // 2 - module_px), tag.code, font=code_font, fill=0, anchor="ls")
    small = _font("regular", side // 9)
    chars_per_line = max(8, int(text_width / (small.size * 0.55)))
    lines = textwrap.wrap(_one_line(describe(tag)), chars_per_line, max_lines=2, placeholder="…")
    for n, line in enumerate(lines):
        draw.text((side, side // 2 + module_px + (n + 1) * small.size * 1.25), line, font=small, fill=60, anchor="ls")
    return _png(label)


def zpl(tag_list: list[Tag], host: str | None = None) -> str:
    """ZPL II for 2.20 × 0.50 in barbell tags on a 203 dpi Zebra printer, one ^XA…^XZ label per tag.

    The QR is model 2 with error correction M in automatic input mode (`^FDMA,<url>`), centred on the left flap;
    the description is wrapped here into two lines of ^A0 text (a ^FB block would print overflow over its last line).
    The printer chooses the QR version itself: the URL comes out at version 2 or larger, as the images do, whenever
    it is over 20 characters (version 1-M's limit), that is unless host and code together have fewer than 9. Text
    is UTF-8 (`^CI28`), ellipsis in ASCII (not every printer font has "…"); `^` and `~`, ZPL's command
    characters, are removed from what users typed.
    """
    host = host or tag_host()
    return "".join(_zpl_label(tag, host) for tag in tag_list)


def _zpl_label(tag: Tag, host: str) -> str:
    qr_dots = qr_symbol(tag.code, host).modules_count * ZPL_QR_MAGNIFICATION
    qr_x, qr_y = (ZPL_FLAP - qr_dots) // 2, (ZPL_HEIGHT - qr_dots) // 2
    code = _zpl_text(tag.code)
    code_width = min(26, (ZPL_FLAP - 8) * 10 // (6 * len(code)))  # ^A0 letters are about 0.6 of their width
    return "\n".join(
        [
            "^XA",
            "^CI28",
            f"^PW{ZPL_WIDTH}",
            f"^LL{ZPL_HEIGHT}",
            "^LH0,0",
            f"^FO{qr_x},{qr_y}^BQN,2,{ZPL_QR_MAGNIFICATION}^FDMA,{tag_url(tag.code, host)}^FS",
            f"^FO{ZPL_TEXT_X},10^A0N,{max(code_width, 18)},{code_width}^FD{code}^FS",
            *(
                f"^FO{ZPL_TEXT_X},{46 + 24 * n}^A0N,20,15^FD{line}^FS"
                for n, line in enumerate(textwrap.wrap(_zpl_text(describe(tag)), 20, max_lines=2, placeholder="..."))
            ),
            "^PQ1",
            "^XZ",
            "",
        ]
    )


def find_visible(raw_code: str, user: User) -> Tag:
    """The tag with this code (typed or from a URL, any case) that `user` may print. Raises TagNotFound when
    the code is malformed, unknown or of another store, with the same message for the last two."""
    try:
        code = tags.normalise(raw_code)
    except DomainError as error:
        raise TagNotFound(f"“{_one_line(raw_code)[:40]}” is not a tag code: {error}") from None
    tag = tags.find(code)
    if tag is None or not _visible(tag, user):
        raise TagNotFound(f"No tag {code} in your stores.")
    return tag


def sheet_tags(
    user: User, *, lot_id: int | None = None, location_id: int | None = None, store_id: int | None = None
) -> tuple[str, list[Tag]]:
    """A title and the tags for one sheet: a lot's tag and its active items' tags, one location's tag, or every
    active physical location of a store. Exactly one of the three is given. Raises TagNotFound for a lot,
    location or store the user may not see."""
    if [lot_id, location_id, store_id].count(None) != 2:
        raise DomainError("Choose one lot, location or store to print labels for.")
    if lot_id is not None:
        lot = db.session.get(Lot, lot_id)
        if lot is None or not _lot_visible(lot, user):
            raise TagNotFound("No such lot in your stores.")
        return f"Lot {lot.number}", [t for t in [lot.tag, *(i.tag for i in lot.items if i.active)] if t is not None]
    if location_id is not None:
        location = db.session.get(Location, location_id)
        if location is None or location.store_id not in user.store_ids or location.tag is None:
            raise TagNotFound("No such location in your stores.")
        return location.label, [location.tag]
    store = db.session.get(Store, store_id)
    if store is None or store.id not in user.store_ids:
        raise TagNotFound("No such store among yours.")
    located = [loc.tag for loc in store.locations if loc.is_physical and loc.active and loc.tag is not None]
    return f"Locations of {store.name}", located


def _visible(tag: Tag, user: User) -> bool:
    if tag.lot is not None:
        return _lot_visible(tag.lot, user)
    if tag.item is not None:
        return tag.item.location.store_id in user.store_ids or _lot_visible(tag.item.lot, user)
    if tag.work_order is not None:
        return tag.work_order.store_id in user.store_ids
    return tag.location.store_id in user.store_ids


def _lot_visible(lot: Lot, user: User) -> bool:
    """A lot belongs to the store that received it and to every store where some of it is now."""
    if lot.store_id in user.store_ids:
        return True
    held_here = (
        select(Balance.id)
        .join(Location)
        .where(
            Balance.lot_id == lot.id,
            Location.store_id.in_(user.store_ids),
            (Balance.pieces != 0) | (Balance.weight != 0),
        )
        .limit(1)
    )
    return db.session.scalar(held_here) is not None


def _one_line(text: str) -> str:
    return " ".join((text or "").split())


def _zpl_text(text: str) -> str:
    """User text made safe inside a ZPL ^FD field: no command characters, no control characters, one line."""
    return _one_line(re.sub(r"[\^~\x00-\x1f\x7f]", " ", text))


@cache
def _font(weight: str, size: int) -> ImageFont.FreeTypeFont:
    for name in FONTS[weight]:
        try:
            return ImageFont.truetype(f"{FONT_DIR}/{name}", size)
        except OSError:
            continue
    return ImageFont.load_default(size)


def _fitting_font(weight: str, text: str, width: int, start: int) -> ImageFont.FreeTypeFont:
    """The largest font, from `start` down, in which `text` fits `width` pixels."""
    size = start
    while size > 10 and _font(weight, size).getlength(text) > width:
        size -= 2
    return _font(weight, size)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
