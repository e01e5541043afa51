"""Forms of shipping, arrival and settling a transfer: shape checks only; services/transfers.py holds the rules."""

from flask_wtf import FlaskForm
from wtforms import Form, HiddenField, RadioField, SelectField, StringField
from wtforms.validators import Length, Optional

from scanapp.forms import id_or_none
from scanapp.forms.moves import Needed, strip

MISSING_CHOICES = [("wait", "Keep waiting"), ("write_off", "Write off")]
EXTRA_CHOICES = [("book", "Book it here"), ("send_back", "Not ours: send back")]


class ShipForm(FlaskForm):
    to_store_id = SelectField(
        "Send to", coerce=id_or_none, validate_choice=False, validators=[Needed("Choose the store it goes to.")]
    )
    carrier = StringField(
        "Carried by",
        filters=[strip],
        validators=[Needed("Say who carries it."), Length(max=120, message="At most 120 characters.")],
    )
    reference = StringField("Reference", filters=[strip], validators=[Length(max=80, message="At most 80 characters.")])
    event_id = HiddenField()


class ArriveForm(FlaskForm):
    location_id = SelectField(
        "Put it in", coerce=id_or_none, validate_choice=False, validators=[Needed("Choose where it goes.")]
    )
    event_id = HiddenField()


class DecisionForm(Form):
    """What to do with one open line of a transfer (fields named line-<id>-action and line-<id>-reason)."""

    action = RadioField("Decision", validators=[Optional()])
    reason = StringField("Reason", filters=[strip], validators=[Length(max=500, message="At most 500 characters.")])

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if ok and self.action.data == "write_off" and not self.reason.data:
            self.reason.errors.append("Give the reason for the write-off.")
            return False
        return ok


class ResolveForm(FlaskForm):
    event_id = HiddenField()
