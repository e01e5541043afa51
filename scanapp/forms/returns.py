"""The return and reason forms: shape checks only; services/returns.py holds the rules."""

from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, MultipleFileField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from scanapp.forms import id_or_none
from scanapp.forms.moves import Needed, strip
from scanapp.forms.receiving import PiecesField, QuantityField
from scanapp.services.receiving import MAX_WEIGHT
from scanapp.services.returns import CONDITION_NAMES, DISPOSITION_NAMES

MAX_MONEY = Decimal(1_000_000_000)


class ReturnForm(FlaskForm):
    """A return at the counter: the scanned item or lot (with receipt, pieces, weight), why, its state, where it
    goes, the refund, photos, and a manager's override reason when the store never sold it."""

    item_id = HiddenField(filters=[id_or_none])
    lot_id = HiddenField(filters=[id_or_none])
    receipt = StringField("Receipt number", filters=[strip], validators=[Length(max=80)],
                          render_kw={"autocomplete": "off"})  # fmt: skip
    pieces = PiecesField("Pieces back", render_kw={"inputmode": "numeric", "autocomplete": "off"})
    weight = QuantityField("Weight back", places=3, maximum=MAX_WEIGHT, example="0.250",
                           render_kw={"inputmode": "decimal", "autocomplete": "off"})  # fmt: skip
    reason_id = SelectField("Reason", coerce=id_or_none, validate_choice=False)
    condition = RadioField(
        "Condition", choices=[SelectChoice(k, v) for k, v in CONDITION_NAMES.items()], default="as_new",
        validators=[Needed("Choose the piece's condition.")],
    )  # fmt: skip
    disposition = RadioField(
        "Where it goes now", choices=[SelectChoice(k, v) for k, v in DISPOSITION_NAMES.items()], default="restock",
        validators=[Needed("Choose where the piece goes now.")],
    )  # fmt: skip
    dest_id = SelectField("Place", coerce=id_or_none, validate_choice=False)
    refund = QuantityField("Refund", places=2, maximum=MAX_MONEY, example="1250.00",
                           render_kw={"inputmode": "decimal", "autocomplete": "off"})  # fmt: skip
    notes = TextAreaField("Notes", filters=[strip], validators=[Length(max=2000)])
    photos = MultipleFileField("Photos", render_kw={"accept": "image/*", "capture": "environment"})
    override_reason = TextAreaField("Manager's override reason", filters=[strip], validators=[Length(max=500)])
    event_id = HiddenField()


class ReasonForm(FlaskForm):
    """Add or rename a reason of the store's list, or (un)tick it active."""

    label = StringField("Reason", filters=[strip], validators=[Needed("Enter the reason."), Length(max=60)])
    active = BooleanField("In use", default=True)
    event_id = HiddenField()
