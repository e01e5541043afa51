"""Count forms: shape checks only (numbers that are numbers, lengths); services/counts.py holds the rules."""

import re
from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, SelectMultipleField, StringField
from wtforms.validators import Length

from scanapp.forms import id_or_none
from scanapp.services.counts import MAX_PIECES, MAX_WEIGHT

DECIMAL_RE = re.compile(r"^([0-9]+([.,][0-9]*)?|[.,][0-9]+)$")


class PiecesField(StringField):
    """Pieces as counted: a whole number, zero or more. Empty means not entered (None)."""

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if not text:
            return
        if text.isascii() and text.isdigit():
            if len(text) > 7 or int(text) > MAX_PIECES:
                raise ValueError(f"At most {MAX_PIECES:,} pieces.")
            self.data = int(text)
        elif text.startswith("-"):
            raise ValueError("Pieces cannot be negative.")
        elif DECIMAL_RE.match(text):
            raise ValueError("Pieces are whole numbers, like 12.")
        else:
            raise ValueError("Pieces must be a number, like 12.")


class WeightField(StringField):
    """A weight as weighed: digits and a point (or a comma), at most three decimals. Empty means not entered."""

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if not text:
            return
        if text.startswith("-"):
            raise ValueError("Weight cannot be negative.")
        if not DECIMAL_RE.match(text):
            raise ValueError("Weight must be a number, like 1.250.")
        value = Decimal(text.replace(",", "."))
        if value >= MAX_WEIGHT:
            raise ValueError(f"Weight must be less than {MAX_WEIGHT:,}.")
        if value != value.quantize(Decimal("0.001")):
            raise ValueError("Weight has at most three decimals.")
        self.data = value


class StartForm(FlaskForm):
    location_id = SelectField("What to count", coerce=id_or_none, validate_choice=False)
    blind = BooleanField("Blind count: hide the expected quantities from the counters", default=True)
    event_id = HiddenField()


class LineForm(FlaskForm):
    """A scan (`code`) or an entry of untagged pieces (`lot`), with the place it was counted in."""

    code = StringField("Tag", validators=[Length(max=200, message="That code is too long to be a tag.")])
    lot = StringField("Lot number", validators=[Length(max=40, message="A lot number has at most 40 characters.")])
    location_id = HiddenField(filters=[id_or_none])
    pieces = PiecesField("Pieces")
    weight = WeightField("Weight")
    event_id = HiddenField()
    after = HiddenField(filters=[id_or_none])  # the newest line the phone shows: the answer holds only newer ones


class QuantityForm(FlaskForm):
    pieces = PiecesField("Pieces")
    weight = WeightField("Weight")
    event_id = HiddenField()


class EventForm(FlaskForm):
    """A button that changes state: close, approve, cancel, remove a line."""

    event_id = HiddenField()


class RecountForm(FlaskForm):
    rows = SelectMultipleField("Recount", validate_choice=False)
    event_id = HiddenField()
