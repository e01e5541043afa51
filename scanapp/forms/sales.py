"""The sale form: shape checks only; services/sales.py holds the rules."""

from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField
from wtforms.validators import Length

from scanapp.forms import id_or_none
from scanapp.forms.moves import Needed, strip
from scanapp.forms.receiving import PiecesField, QuantityField
from scanapp.services.receiving import MAX_WEIGHT

MAX_PRICE = Decimal(1_000_000_000)


class SaleForm(FlaskForm):
    """One sold line: an item, or pieces and weight of a lot from one of its places; price and receipt."""

    item_id = HiddenField(filters=[id_or_none])
    lot_id = HiddenField(filters=[id_or_none])
    source_id = SelectField("From", coerce=id_or_none, validate_choice=False)
    pieces = PiecesField("Pieces", render_kw={"inputmode": "numeric", "autocomplete": "off"})
    weight = QuantityField(
        "Weight",
        places=3,
        maximum=MAX_WEIGHT,
        example="0.250",
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )
    price = QuantityField(
        "Sale price",
        places=2,
        maximum=MAX_PRICE,
        example="1250.00",
        validators=[Needed("Enter the sale price.")],
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )
    receipt = StringField(
        "Receipt number",
        filters=[strip],
        validators=[Needed("Enter the receipt number."), Length(max=80, message="At most 80 characters.")],
        render_kw={"autocomplete": "off"},
    )
    event_id = HiddenField()
