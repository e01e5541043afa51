"""Forms of the move pages: shape checks only; services/movements.py holds the rules."""

from flask_wtf import FlaskForm
from wtforms import Form, HiddenField, SelectField, StringField
from wtforms.validators import Length, StopValidation

from scanapp.forms import id_or_none
from scanapp.forms.receiving import PiecesField, QuantityField
from scanapp.services.receiving import MAX_WEIGHT


def strip(value) -> str:
    return (value or "").strip()


class Needed:
    """Something must be given (a zero counts). Unlike wtforms' required validators this does not put the HTML
    `required` attribute on the input: the scanner's request includes the page's form (hx-include), and the browser
    would silently hold back every scan while a required field of it is still empty."""

    def __init__(self, message: str):
        self.message = message

    def __call__(self, form, field):
        if field.process_errors:
            raise StopValidation()  # the field's own message (not a number, too long…) says it better
        if field.data is None or (isinstance(field.data, str) and not field.data.strip()):
            raise StopValidation(self.message)


class LineForm(Form):
    """The quantities of one scanned lot line (its fields are named line-<key>-pieces and so on)."""

    pieces = PiecesField("Pieces", render_kw={"inputmode": "numeric", "autocomplete": "off"})
    weight = QuantityField(
        "Weight",
        places=3,
        maximum=MAX_WEIGHT,
        example="1.250",
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )
    source_id = SelectField("From", coerce=id_or_none, validate_choice=False)

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if ok and not self.pieces.data and not self.weight.data:
            self.pieces.errors.append("Give the pieces (or the weight).")
            return False
        return ok


class MoveForm(FlaskForm):
    dest_id = SelectField(
        "Move to", coerce=id_or_none, validate_choice=False, validators=[Needed("Scan or choose where it goes.")]
    )
    note = StringField("Note", filters=[strip], validators=[Length(max=500, message="At most 500 characters.")])
    event_id = HiddenField()


class LocationMoveForm(FlaskForm):
    source_id = SelectField(
        "Empty this place", coerce=id_or_none, validate_choice=False, validators=[Needed("Choose the place.")]
    )
    dest_id = SelectField(
        "Put it all in", coerce=id_or_none, validate_choice=False, validators=[Needed("Choose where it goes.")]
    )
    event_id = HiddenField()
