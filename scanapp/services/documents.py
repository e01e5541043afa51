"""Lot documents (certificates, invoices): PDFs and images checked by their content, stored by content hash."""

import hashlib
import io
from pathlib import Path

from flask import current_app
from PIL import Image, UnidentifiedImageError

from scanapp.extensions import db
from scanapp.models import Document, Lot, User
from scanapp.services import DomainError

IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "HEIF": "image/heic", "GIF": "image/gif"}


def sniff(data: bytes) -> str:
    """The content type of an upload, judged by its bytes, never by its name. DomainError if not PDF or image."""
    if data.startswith(b"%PDF-"):
        if b"%%EOF" not in data[-2048:]:
            raise DomainError("That PDF is incomplete; upload the whole file.", field="documents")
        return "application/pdf"
    from pillow_heif import register_heif_opener

    register_heif_opener()
    not_a_document = DomainError("Documents must be a PDF or a photo (JPEG, PNG, HEIC, WebP).", field="documents")
    try:
        image = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise not_a_document from None
    with image:
        if image.format not in IMAGE_TYPES:
            raise not_a_document
        try:
            # Decode it: verify() alone passes a truncated JPEG or GIF. JPEGs decode at 1/8 scale, which is quick
            # and still reads every byte.
            image.draft(image.mode, (1, 1))
            image.load()
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            raise DomainError(
                "That image is incomplete or damaged; upload the whole file.", field="documents"
            ) from None
        return IMAGE_TYPES[image.format]


def check_document(filename: str, data: bytes) -> str:
    """Validate one upload before anything is written; returns its content type."""
    limit = current_app.config["MAX_DOCUMENT_BYTES"]
    name = filename or "The document"
    if not data:
        raise DomainError(f"{name} is empty.", field="documents")
    if len(data) > limit:
        size = f"{limit / 1024**2:g} MB" if limit >= 1024**2 else f"{limit / 1024:g} KB"
        raise DomainError(f"{name} is larger than {size}.", field="documents")
    try:
        return sniff(data)
    except DomainError as error:
        raise DomainError(f"{name}: {error}", field="documents") from None


def add_document(lot: Lot, filename: str, data: bytes, *, by: User) -> Document:
    """Store a document's bytes under media/docs/<hash> (once per content) and record it on the lot. Flushes."""
    content_type = check_document(filename, data)
    digest = hashlib.sha256(data).hexdigest()
    path = media_path(digest)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    name = Path(filename or "document").name[:200]
    document = Document(
        lot=lot, filename=name, content_type=content_type, sha256=digest, size=len(data), uploaded_by=by
    )
    db.session.add(document)
    db.session.flush()
    return document


def media_path(digest: str) -> Path:
    return Path(current_app.config["MEDIA_DIR"]) / "docs" / digest[:2] / digest
