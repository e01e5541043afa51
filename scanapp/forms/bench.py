"""Bench forms: a new job, a material used, status, finishing a custom piece, collecting, taking a piece apart.
Shape checks only; services/bench.py holds the rules."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length

from scanapp.forms.receiving import DayField, PiecesField, QuantityField
from scanapp.services.bench import KIND_NAMES, MAX_MONEY
from scanapp.services.receiving import MAX_WEIGHT

DECIMAL_INPUT = {"inputmode": "decimal", "autocomplete": "off"}


def _strip(value) -> str:
    return (value or "").strip()


def _id(value):
    """A select's id as an int; anything else (empty, forged) as None, for a clear 'choose one' message."""
    if isinstance(value, int):
        return value
    text = str(value or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None  # fits INTEGER


def _ids(value):
    """A ticked checkbox's id as an int; a forged value as 0, which matches nothing."""
    return _id(value) or 0


def _labour(label: str = "Labour", required: bool = False) -> QuantityField:
    validators = [InputRequired("Enter the labour (0 when there is none).")] if required else []
    return QuantityField(label, validators, places=2, maximum=MAX_MONEY, example="85.00", render_kw=DECIMAL_INPUT)


class JobForm(FlaskForm):
    kind = SelectField("Job", choices=[SelectChoice(k, name) for k, name in KIND_NAMES.items()], validate_choice=False)
    description = TextAreaField(
        "What to do", filters=[_strip], validators=[DataRequired("Say what the job is."), Length(max=2000)]
    )
    customer_reference = StringField("Customer", filters=[_strip], validators=[Length(max=80)])
    promised_on = DayField("Promised for")
    piece_code = StringField(
        "Store piece",
        filters=[_strip],
        validators=[Length(max=200)],
        render_kw={"autocapitalize": "characters", "autocomplete": "off", "spellcheck": "false"},
    )
    customer_piece = StringField("Customer's piece", filters=[_strip], validators=[Length(max=200)])
    jeweler_id = SelectField("Jeweler", coerce=_id, validate_choice=False)
    bench_location_id = SelectField(
        "Bench", coerce=_id, validate_choice=False, validators=[DataRequired("Choose the bench.")]
    )
    labour_cost = _labour("Labour estimate")
    event_id = HiddenField()


class UseForm(FlaskForm):
    code = HiddenField(validators=[DataRequired("Scan a lot or an item first.")])
    location_id = SelectField(
        "Take from", coerce=_id, validate_choice=False, validators=[DataRequired("Choose where it is taken from.")]
    )
    pieces = PiecesField("Pieces", render_kw={"inputmode": "numeric", "autocomplete": "off"})
    weight = QuantityField("Weight", places=3, maximum=MAX_WEIGHT, example="0.090", render_kw=DECIMAL_INPUT)
    note = StringField("Note", filters=[_strip], validators=[Length(max=200)])
    event_id = HiddenField()


class PieceForm(FlaskForm):
    code = HiddenField(validators=[DataRequired("Scan the piece's tag first.")])
    event_id = HiddenField()


class EventForm(FlaskForm):
    """A button that changes one thing (undo a line): only its event id."""

    event_id = HiddenField()


class StatusForm(FlaskForm):
    status = HiddenField(validators=[DataRequired("Choose a status.")])
    event_id = HiddenField()


class FinishForm(FlaskForm):
    lot_id = SelectField("Lot", coerce=_id, validate_choice=False)
    location_id = SelectField(
        "Put it in", coerce=_id, validate_choice=False, validators=[DataRequired("Choose where the piece goes.")]
    )
    description = StringField("Description", filters=[_strip], validators=[Length(max=200)])
    serial = StringField(
        "Serial",
        filters=[_strip],
        validators=[Length(max=40)],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    weight = QuantityField("Weight (g)", places=3, maximum=MAX_WEIGHT, example="6.350", render_kw=DECIMAL_INPUT)
    labour_cost = _labour(required=True)
    event_id = HiddenField()


class CollectForm(FlaskForm):
    location_id = SelectField("Put the piece back in", coerce=_id, validate_choice=False)
    event_id = HiddenField()


class TakeApartForm(FlaskForm):
    components = SelectMultipleField("Back to stock", coerce=_ids, validate_choice=False)
    location_id = SelectField(
        "Put them in", coerce=_id, validate_choice=False, validators=[DataRequired("Choose where they go.")]
    )
    event_id = HiddenField()
