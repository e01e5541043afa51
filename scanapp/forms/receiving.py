"""The receiving form: shape checks only (numbers that are numbers, lengths); services/receiving.py holds the rules."""

import json
import re
from datetime import date
from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, MultipleFileField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length

from scanapp.forms import id_or_none
from scanapp.models import CATEGORIES, DEFAULT_WEIGHT_UNIT
from scanapp.services.receiving import COST_BASES, MAX_PIECES, MAX_WEIGHT

MAX_COST = Decimal(1_000_000_000)  # as typed: per piece, per ct or g, or in total
DECIMAL_RE = re.compile(r"^([0-9]+(\.[0-9]*)?|\.[0-9]+)$")
COST_LABELS = {"total": "in total", "piece": "per piece", "weight": "per ct or g"}


def _strip(value) -> str:
    return (value or "").strip()


class PiecesField(StringField):
    """A count typed by a person: a whole number, zero or more. Empty means zero."""

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip()
        self.data = None if text else 0
        if not text:
            return
        if text.isascii() and text.isdigit():
            if len(text) > 7 or int(text) > MAX_PIECES:
                raise ValueError(f"At most {MAX_PIECES:,} pieces in one lot.")
            self.data = int(text)
            return
        if text.startswith("-"):
            raise ValueError("Pieces cannot be negative.")
        if DECIMAL_RE.match(text):
            raise ValueError("Pieces are whole numbers, like 12.")
        raise ValueError("Pieces must be a number, like 12.")

    def _value(self):
        return self.raw_data[0] if self.raw_data else ("" if self.data is None else str(self.data))


class QuantityField(StringField):
    """An exact decimal typed by a person (weight or money): digits and a point, at most `places` decimals."""

    def __init__(self, label=None, validators=None, *, places: int, maximum: Decimal, example: str, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.places, self.maximum, self.example = places, maximum, example

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if not text:
            return
        name = self.label.text
        if text.startswith("-"):
            raise ValueError(f"{name} cannot be negative.")
        if not DECIMAL_RE.match(text):
            raise ValueError(f"{name} must be a number with a point for decimals, like {self.example}.")
        value = Decimal(text)
        if value >= self.maximum:
            raise ValueError(f"{name} must be less than {self.maximum:,}.")
        if value != value.quantize(Decimal(1).scaleb(-self.places)):
            raise ValueError(f"{name} has at most {self.places} decimals.")
        self.data = value

    def _value(self):
        return self.raw_data[0] if self.raw_data else ("" if self.data is None else str(self.data))


class DayField(DateField):
    """A date; empty is left to the required check so that only one message shows."""

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError("Enter a date like 2026-04-15.") from None


class ReceiveForm(FlaskForm):
    supplier_id = SelectField(
        "Supplier", coerce=id_or_none, validate_choice=False, validators=[DataRequired("Choose the supplier.")]
    )
    location_id = SelectField(
        "Put it in",
        coerce=id_or_none,
        validate_choice=False,
        validators=[DataRequired("Choose where the shipment goes.")],
    )
    category = SelectField(
        "Category",
        choices=[SelectChoice(c, c.title()) for c in CATEGORIES],
        default="stone",
        validate_choice=False,
        # receiving.js sets the weight unit from the category; the view applies the same default without JS.
        render_kw={"data-units": json.dumps({c: unit or "" for c, unit in DEFAULT_WEIGHT_UNIT.items()})},
    )
    received_on = DayField("Received", default=date.today, validators=[InputRequired("Enter the date it arrived.")])
    number = StringField(
        "Lot number",
        validators=[Length(max=32)],
        filters=[_strip],
        render_kw={"autocapitalize": "characters", "autocomplete": "off", "spellcheck": "false"},
    )
    suggested = HiddenField()
    description = StringField(
        "Description", filters=[_strip], validators=[DataRequired("Describe what arrived."), Length(max=200)]
    )
    pieces = PiecesField("Pieces", render_kw={"inputmode": "numeric", "autocomplete": "off"})
    weight = QuantityField(
        "Weight",
        places=3,
        maximum=MAX_WEIGHT,
        example="3.600",
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )
    weight_unit = SelectField(
        "Unit",
        choices=[SelectChoice("", "none"), SelectChoice("ct"), SelectChoice("g")],
        default="ct",
        validate_choice=False,
    )
    cost = QuantityField(
        "Cost",
        places=2,
        maximum=MAX_COST,
        example="1250.00",
        validators=[InputRequired("Enter the cost (0 when there is none).")],
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )
    cost_basis = SelectField(
        "Cost is", choices=[SelectChoice(b, COST_LABELS[b]) for b in COST_BASES], default="total", validate_choice=False
    )
    po_number = StringField("PO", validators=[Length(max=40)], filters=[_strip])
    invoice_number = StringField("Invoice", validators=[Length(max=40)], filters=[_strip])
    metal = StringField("Metal", validators=[Length(max=40)], filters=[_strip])
    karat = StringField("Karat", validators=[Length(max=10)], filters=[_strip])
    stone = StringField("Stone", validators=[Length(max=40)], filters=[_strip])
    shape = StringField("Shape", validators=[Length(max=40)], filters=[_strip])
    colour = StringField("Colour", validators=[Length(max=40)], filters=[_strip])
    clarity = StringField("Clarity", validators=[Length(max=20)], filters=[_strip])
    cut = StringField("Cut", validators=[Length(max=40)], filters=[_strip])
    origin = StringField("Origin", validators=[Length(max=60)], filters=[_strip])
    certificates = TextAreaField("Certificate numbers", validators=[Length(max=2000)], filters=[_strip])
    items = TextAreaField("Individual items", validators=[Length(max=200_000)], filters=[_strip])
    notes = TextAreaField("Notes", validators=[Length(max=4000)], filters=[_strip])
    documents = MultipleFileField("Documents", render_kw={"accept": "application/pdf,image/*", "hx-preserve": "true"})
    event_id = HiddenField()
