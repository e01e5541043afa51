"""Flask-WTF forms: shape checks only; the services hold the rules."""


def id_or_none(value) -> int | None:
    """A chosen id as an int; anything else (empty, forged, huge) as None, for a clear 'choose one' message."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None  # fits INTEGER
