"""The photo pipeline with real images: decoded, turned upright, stripped of GPS and every other metadata, shrunk,
thumbnailed and stored once by content hash; anything else refused with a clear message and nothing written.
Photos are served only to signed-in users of their store."""

import hashlib
import html
import io
import struct
import uuid
import zlib
from pathlib import Path

import pytest
from PIL import ExifTags, Image, ImageCms
from pillow_heif import register_heif_opener
from sqlalchemy import func, select

from scanapp.extensions import db
from scanapp.models import Event, Inspection, Movement, Photo
from scanapp.services import DomainError, photos

register_heif_opener()

RED, BLUE = (220, 20, 20), (20, 20, 220)
SRGB_ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def halves(size=(3000, 1500)) -> Image.Image:
    """Red on the left half, blue on the right."""
    image = Image.new("RGB", size, RED)
    image.paste(BLUE, (size[0] // 2, 0, size[0], size[1]))
    return image


def phone_jpeg() -> bytes:
    """A landscape JPEG whose EXIF says "turn 90° clockwise" (orientation 6), with GPS, a camera make and an
    ICC profile, as a phone writes it."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "PhoneCam"
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(
        {
            ExifTags.GPS.GPSLatitudeRef: "N",
            ExifTags.GPS.GPSLatitude: (52.0, 22.0, 10.0),
            ExifTags.GPS.GPSLongitudeRef: "E",
            ExifTags.GPS.GPSLongitude: (4.0, 53.0, 2.0),
        }
    )
    return encode(halves(), "JPEG", exif=exif, icc_profile=SRGB_ICC, quality=92)


def noise(fmt: str, size=(640, 480)) -> bytes:
    return encode(Image.effect_noise(size, 60).convert("RGB"), fmt)


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims `width` x `height` pixels: a decompression bomb."""
    small = encode(Image.new("RGB", (1, 1)), "PNG")
    header = struct.pack(">II", width, height) + small[24:29]  # keep bit depth, colour type, …
    return small[:16] + header + struct.pack(">I", zlib.crc32(b"IHDR" + header)) + small[33:]


def near(pixel, colour, tolerance=40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True))


def stored_files(app) -> list[Path]:
    return sorted(p for p in Path(app.config["MEDIA_DIR"]).rglob("*") if p.is_file())


@pytest.fixture
def shop(make):
    a, b = make.store("A", "Avenue"), make.store("B", "Boulevard")
    safe = make.location(a, "SAFE", "safe", "Main safe")
    vault = make.user("vault", [a], username="vera")
    other = make.user("manager", [b], username="otto")
    lot = make.lot(safe, pieces=10, category="finished", by=vault)
    db.session.commit()
    return {"a": a, "safe": safe, "vault": vault, "other": other, "lot": lot}


def test_phone_jpeg_is_turned_upright_and_loses_gps_exif_and_profile(app):
    original = Image.open(io.BytesIO(phone_jpeg()))
    assert original.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the upload does carry a location
    prepared = photos.prepare("IMG_0001.JPG", phone_jpeg())
    stored = Image.open(io.BytesIO(prepared.jpeg))
    assert (stored.format, stored.size, (prepared.width, prepared.height)) == ("JPEG", (1024, 2048), (1024, 2048))
    # Orientation 6 turns the left (red) half to the top.
    assert near(stored.getpixel((512, 200)), RED) and near(stored.getpixel((512, 1850)), BLUE)
    assert dict(stored.getexif()) == {} and not stored.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert not {"exif", "icc_profile", "xmp", "XML:com.adobe.xmp"} & set(stored.info)
    assert b"Exif" not in prepared.jpeg and b"PhoneCam" not in prepared.jpeg
    thumb = Image.open(io.BytesIO(prepared.thumb))
    assert thumb.size == (160, 320) and dict(thumb.getexif()) == {}


def test_transparent_png_goes_on_white(app):
    image = Image.new("RGBA", (300, 200), (0, 0, 0, 0))
    image.paste((20, 20, 220, 255), (0, 0, 150, 200))
    stored = Image.open(io.BytesIO(photos.prepare("label.png", encode(image, "PNG")).jpeg))
    assert stored.size == (300, 200) and stored.mode == "RGB"
    assert near(stored.getpixel((75, 100)), BLUE) and near(stored.getpixel((225, 100)), (255, 255, 255))


def test_heic_from_an_iphone_is_accepted(app):
    heic = encode(halves((1200, 800)), "HEIF", quality=90)
    assert Image.open(io.BytesIO(heic)).format == "HEIF"
    stored = Image.open(io.BytesIO(photos.prepare("IMG_4242.HEIC", heic).jpeg))
    assert stored.format == "JPEG" and stored.size == (1200, 800)
    assert near(stored.getpixel((100, 400)), RED) and near(stored.getpixel((1100, 400)), BLUE)


def test_the_same_photo_twice_is_stored_once(app, shop):
    a, vault = shop["a"], shop["vault"]
    first, second = photos.prepare_all([("a.jpg", phone_jpeg()), ("b.jpg", phone_jpeg())])
    one, two = photos.save(first, by=vault, store=a), photos.save(second, by=vault, store=a)
    digest = hashlib.sha256(first.jpeg).hexdigest()
    assert one.sha256 == two.sha256 == digest and one.id != two.id
    assert stored_files(app) == [photos.photo_path(digest), photos.photo_path(digest, thumb=True)]
    assert photos.photo_path(digest).read_bytes() == first.jpeg
    assert str(photos.photo_path(digest)).endswith(f"photos/{digest[:2]}/{digest}.jpg")
    assert (one.width, one.height, one.size, one.content_type) == (1024, 2048, len(first.jpeg), "image/jpeg")


TRUNCATED = phone_jpeg()[:20000]
REFUSED = [
    ("broken.jpg", TRUNCATED, "broken.jpg is incomplete or damaged; take the photo again."),
    ("half.png", noise("PNG")[:3000], "half.png is incomplete or damaged"),
    ("notes.jpg", b"Just a note, typed on a phone.\n", "notes.jpg is not a photo"),
    ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><rect width="9" height="9"/></svg>', "logo.svg is not a"),
    ("empty.jpg", b"", "empty.jpg is empty."),
    ("bomb.png", png_claiming(100_000, 100_000), "bomb.png has far too many pixels to be a photo."),
    ("warned.png", png_claiming(10_000, 10_000), "warned.png has far too many pixels"),  # only a warning in Pillow
    ("big.jpg", noise("JPEG", (900, 900)), "big.jpg is larger than 50 KB."),
]


@pytest.mark.parametrize(("filename", "data", "message"), REFUSED, ids=[r[0] for r in REFUSED])
def test_what_is_not_a_whole_photo_is_refused(app, filename, data, message):
    app.config["MAX_PHOTO_BYTES"] = 50 * 1024
    with pytest.raises(DomainError, match="^" + message.replace(".", r"\.")) as refused:
        photos.prepare(filename, data)
    assert refused.value.field == "photos"


def counts() -> tuple[int, int, int, int]:
    return tuple(
        db.session.scalar(select(func.count()).select_from(model)) for model in (Inspection, Photo, Movement, Event)
    )


@pytest.mark.parametrize(("filename", "data", "message"), REFUSED, ids=[r[0] for r in REFUSED])
def test_a_refused_photo_refuses_the_inspection_and_writes_nothing(app, shop, client_for, filename, data, message):
    app.config["MAX_PHOTO_BYTES"] = 50 * 1024
    client = client_for(shop["vault"])
    before = counts()
    good = encode(halves((300, 200)), "JPEG")
    response = client.post(
        f"/inspections/new?lot={shop['lot'].id}",
        data={
            "result": "pass",
            "event_id": str(uuid.uuid4()),
            "photos": [(io.BytesIO(good), "good.jpg"), (io.BytesIO(data), filename)],
        },
    )
    assert response.status_code == 422
    assert message in html.unescape(response.text) and 'id="photos-msg" role="alert"' in response.text
    assert counts() == before
    assert stored_files(app) == []


def test_photos_are_served_only_to_their_store(app, shop, client_for, make):
    prepared = photos.prepare("ring.jpg", phone_jpeg())
    photo = photos.save(prepared, by=shop["vault"], store=shop["a"])
    db.session.commit()
    mine = client_for(shop["vault"])
    for url, body in ((f"/photos/{photo.id}", prepared.jpeg), (f"/photos/{photo.id}/thumb", prepared.thumb)):
        with mine.get(url) as response:
            assert response.status_code == 200 and response.data == body
            assert response.mimetype == "image/jpeg" and response.headers["Cache-Control"].startswith("private")
    assert mine.get(f"/photos/{photo.id + 1}").status_code == 404

    theirs = client_for(shop["other"])
    assert theirs.get(f"/photos/{photo.id}").status_code == 404
    assert theirs.get(f"/photos/{photo.id}/thumb").status_code == 404
    anonymous = app.test_client().get(f"/photos/{photo.id}")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
