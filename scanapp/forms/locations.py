"""The form that adds a location to a store: shape checks only; services/stores.py holds the rules."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Regexp

from scanapp.services.stores import PLACE_KINDS

KIND_NAMES = {"safe": "Safe", "vault": "Vault", "showcase": "Showcase", "bench": "Bench", "backroom": "Back room"}


class LocationForm(FlaskForm):
    code = StringField(
        "Code",
        validators=[
            DataRequired("Give the location a short code, e.g. SC3."),
            Length(max=24, message="A code has at most 24 characters."),
            Regexp(r"^\s*[A-Za-z0-9][A-Za-z0-9-]*\s*$", message="Use letters, digits and dashes only."),
        ],
    )
    name = StringField("Name", validators=[Length(max=120, message="A name has at most 120 characters.")])
    kind = SelectField("Kind", choices=[SelectChoice(kind, KIND_NAMES[kind]) for kind in PLACE_KINDS])
    event_id = HiddenField()
