"""Supplier forms: shape checks only; services/suppliers.py holds the rules (code format, uniqueness)."""

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, StringField, TelField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from scanapp.services.suppliers import CODE_RE


def _strip(value) -> str:
    return (value or "").strip()


def _upper(value) -> str:
    return _strip(value).upper()


class SupplierForm(FlaskForm):
    code = StringField(
        "Code",
        validators=[
            DataRequired("Give the supplier a short code, like SUP."),
            Regexp(CODE_RE, message="A supplier code has 2 to 12 letters or digits, like SUP or GEMS2."),
        ],
        filters=[_upper],
        render_kw={"autocapitalize": "characters", "autocomplete": "off", "spellcheck": "false"},
    )
    name = StringField(
        "Name", validators=[DataRequired("Give the supplier's name."), Length(max=120)], filters=[_strip]
    )
    contact = StringField("Contact person", validators=[Length(max=120)], filters=[_strip])
    email = EmailField(
        "Email",
        validators=[
            Optional(),
            Length(max=120),
            Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="That is not an email."),
        ],
        filters=[_strip],
    )
    phone = TelField("Phone", validators=[Length(max=40)], filters=[_strip])
    notes = TextAreaField("Notes", validators=[Length(max=4000)], filters=[_strip])
    next = HiddenField()
    event_id = HiddenField()

    def details(self) -> dict[str, str]:
        """The supplier's facts as the services take them."""
        return {name: self[name].data or "" for name in ("code", "name", "contact", "email", "phone", "notes")}


class SupplierStateForm(FlaskForm):
    """Deactivate or reactivate: a button with its CSRF token and event id."""

    event_id = HiddenField()
