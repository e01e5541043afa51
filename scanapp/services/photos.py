"""Photos taken on a phone: checked by decoding them, turned upright, stripped of every kind of metadata (GPS,
EXIF, XMP, colour profiles: only the pixels are kept), shrunk, thumbnailed and stored as JPEG by content hash under
media/photos/. Any workflow that keeps photos (inspections, returns) uses `prepare` then `save`.
"""

import contextlib
import hashlib
import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import pillow_heif
from flask import current_app
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from scanapp.extensions import db
from scanapp.models import Photo, Store, User
from scanapp.services import DomainError

pillow_heif.register_heif_opener()  # iPhones take HEIC

# Pillow plugins tried when opening an upload: photo formats only (never EPS, which would run Ghostscript).
FORMATS = ("JPEG", "PNG", "WEBP", "HEIF", "AVIF", "GIF")
MAX_SIDE = 2048  # the long side of a stored photo, in pixels
THUMB_SIDE = 320
QUALITY = 85
SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


@dataclass(frozen=True)
class PreparedPhoto:
    """A checked upload, re-encoded in memory and not yet written anywhere."""

    filename: str
    sha256: str
    jpeg: bytes
    thumb: bytes
    width: int
    height: int


def prepare(filename: str, data: bytes) -> PreparedPhoto:
    """Decode one upload and make its stored JPEG and thumbnail, in memory. DomainError (field `photos`) with a
    message naming the file when it is empty, too large, not a photo, damaged or a decompression bomb."""
    name = Path(filename or "").name[:200] or "The photo"
    limit = current_app.config["MAX_PHOTO_BYTES"]
    if not data:
        raise DomainError(f"{name} is empty.", field="photos")
    if len(data) > limit:
        size = f"{limit / 1024**2:g} MB" if limit >= 1024**2 else f"{limit / 1024:g} KB"
        raise DomainError(f"{name} is larger than {size}.", field="photos")
    image = _decode(name, data)
    try:
        image = _upright_srgb(image)
        image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
        # A new image of the pixels alone: nothing of the upload's metadata can follow it into the file.
        clean = Image.new("RGB", image.size)
        clean.paste(image)
    except (OSError, ValueError) as error:
        raise DomainError(f"{name} could not be read as a photo ({error}).", field="photos") from None
    thumb = clean.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    jpeg = _jpeg(clean)
    return PreparedPhoto(
        filename=Path(filename or "photo").name[:200],
        sha256=hashlib.sha256(jpeg).hexdigest(),
        jpeg=jpeg,
        thumb=_jpeg(thumb),
        width=clean.width,
        height=clean.height,
    )


def prepare_all(uploads: list[tuple[str, bytes]]) -> list[PreparedPhoto]:
    """Prepare every upload of a request (filename, bytes) before any is written: one bad photo refuses all."""
    return [prepare(filename, data) for filename, data in uploads]


def save(prepared: PreparedPhoto, *, by: User, store: Store, inspection=None) -> Photo:
    """Write the photo and its thumbnail (unless that content is stored already) and record it. Flushes."""
    for path, data in (
        (photo_path(prepared.sha256), prepared.jpeg),
        (photo_path(prepared.sha256, thumb=True), prepared.thumb),
    ):
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
    photo = Photo(
        store=store,
        inspection=inspection,
        sha256=prepared.sha256,
        content_type="image/jpeg",
        width=prepared.width,
        height=prepared.height,
        size=len(prepared.jpeg),
        original_filename=prepared.filename,
        uploaded_by=by,
    )
    db.session.add(photo)
    db.session.flush()
    return photo


def photo_for(user: User, photo_id: int) -> Photo | None:
    """The photo, or None when it does not exist or belongs to a store `user` is not in."""
    photo = db.session.get(Photo, photo_id)
    return photo if photo is not None and photo.store_id in user.store_ids else None


def photo_path(digest: str, *, thumb: bool = False) -> Path:
    """Where a stored photo (or its thumbnail) lives: media/photos/<ab>/<sha256>[_thumb].jpg."""
    suffix = "_thumb.jpg" if thumb else ".jpg"
    return Path(current_app.config["MEDIA_DIR"]) / "photos" / digest[:2] / f"{digest}{suffix}"


def _decode(name: str, data: bytes) -> Image.Image:
    """The upload decoded in full (a truncated file fails here, not later), or a DomainError saying what is wrong."""
    damaged = DomainError(f"{name} is incomplete or damaged; take the photo again.", field="photos")
    bomb = DomainError(f"{name} has far too many pixels to be a photo.", field="photos")
    with warnings.catch_warnings():
        # Pillow only warns between MAX_IMAGE_PIXELS and twice that; refuse those too.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=_formats())
        except UnidentifiedImageError:
            raise DomainError(
                f"{name} is not a photo: take a picture, or choose a JPEG, PNG, HEIC or WebP image.", field="photos"
            ) from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise bomb from None
        except (OSError, SyntaxError, ValueError, EOFError):
            raise damaged from None
        if image.width * image.height > Image.MAX_IMAGE_PIXELS:
            raise bomb
        image.draft("RGB", (MAX_SIDE, MAX_SIDE))  # JPEGs decode at a smaller scale, still reading every byte
        try:
            image.load()
        except Exception:  # decoders of untrusted bytes raise many kinds: OSError, SyntaxError, zlib.error…
            raise damaged from None
    return image


def _formats() -> list[str]:
    """The photo formats Pillow can open here (HEIF and AVIF need their plugins)."""
    Image.init()
    return [name for name in FORMATS if name in Image.OPEN]


def _upright_srgb(image: Image.Image) -> Image.Image:
    """Turned as the camera meant (EXIF orientation), in RGB on white where it was transparent, in sRGB colours
    when it carried a colour profile (an iPhone's Display P3)."""
    profile = image.info.get("icc_profile")
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba)
    image = image.convert("RGB")
    if profile:
        # A broken or non-RGB profile is ignored: the colours stay as they are.
        with contextlib.suppress(ImageCms.PyCMSError, OSError):
            image = ImageCms.profileToProfile(
                image, ImageCms.ImageCmsProfile(io.BytesIO(profile)), SRGB, outputMode="RGB"
            )
    return image


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=QUALITY, optimize=True)
    return out.getvalue()
