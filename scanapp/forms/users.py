"""User administration and the audit filters: shape checks only; services/users.py holds the rules."""

from datetime import date

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from scanapp.forms.moves import Needed, strip
from scanapp.models import AUDIT_ACTIONS, ROLES
from scanapp.services.audit import Filters
from scanapp.services.users import MIN_PASSWORD

ROLE_CHOICES = [SelectChoice(r, r.title()) for r in ROLES]
PASSWORD_HINT = f"At least {MIN_PASSWORD} characters. Tell it to the person; they can sign in with it at once."
# What each role may do, in words (services/access.py has the rule): shown under the role field.
ROLE_HINT = (
    "Associate: look up, move, sell, take returns. Vault: look up, move, receive, inspect, count, take returns. "
    "Bench: look up, move, log materials, make pieces. Manager: all of these, plus approvals, holds, reports "
    "and the audit log. Admin: also accounts."
)


class StoresField(SelectMultipleField):
    """Tick boxes of the admin's stores."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form) -> None:  # the view answers 404 for a store not offered (scanapp/views/users.py)
        pass


def _password_field() -> PasswordField:
    return PasswordField(
        "New password",
        validators=[
            Needed("Type the new password."),
            Length(min=MIN_PASSWORD, max=256, message=f"At least {MIN_PASSWORD} characters."),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class NewUserForm(FlaskForm):
    username = StringField(
        "Username",
        filters=[strip],
        validators=[Needed("Give a username."), Length(max=64, message="At most 64 characters.")],
        render_kw={"autocomplete": "off", "autocapitalize": "off"},
    )
    name = StringField("Full name", filters=[strip], validators=[Length(max=120, message="At most 120 characters.")])
    role = SelectField(
        "Role", choices=ROLE_CHOICES, description=ROLE_HINT, invalid_choice_message="Choose a role from the list."
    )
    stores = StoresField("Stores", coerce=int)
    password = _password_field()
    event_id = HiddenField()


class RoleForm(FlaskForm):
    role = SelectField(
        "Role", choices=ROLE_CHOICES, description=ROLE_HINT, invalid_choice_message="Choose a role from the list."
    )
    event_id = HiddenField()


class StoresForm(FlaskForm):
    stores = StoresField("Stores", coerce=int)
    event_id = HiddenField()


class PasswordForm(FlaskForm):
    password = _password_field()
    event_id = HiddenField()


def store_choices(form, stores) -> None:
    """Offer `stores` (the admin's) as the tick boxes of `form.stores`."""
    form.stores.choices = [SelectChoice(s.id, s.name) for s in stores]


class AuditFilterForm(FlaskForm):
    """Which entries the audit page shows: a GET form (no CSRF token: it changes nothing)."""

    class Meta:
        csrf = False

    action = SelectField(
        "What",
        choices=[SelectChoice("", "Everything")] + [SelectChoice(a, a.replace("_", " ")) for a in AUDIT_ACTIONS],
        default="",
        invalid_choice_message="Choose from the list.",
    )
    person = StringField("Who (username)", filters=[strip], validators=[Length(max=64)])
    store = SelectField("Store", coerce=int, default=0, invalid_choice_message="Choose one of your stores.")
    since = DateField("From", validators=[Optional()])
    until = DateField("To", validators=[Optional()])
    page = IntegerField(default=1, validators=[Optional(), NumberRange(1, 100_000)])

    def __init__(self, formdata, *, stores, **kwargs):
        super().__init__(formdata=formdata, **kwargs)
        self.store.choices = [SelectChoice(0, "All my stores")] + [SelectChoice(s.id, s.name) for s in stores]

    def validate_until(self, field) -> None:
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError("The end date is before the start date.")

    def validate_since(self, field) -> None:
        if field.data and not date(1900, 1, 1) <= field.data <= date(2999, 12, 31):
            raise ValidationError("Give a date between the years 1900 and 2999.")

    def filters(self) -> Filters:
        return Filters(
            action=self.action.data or "",
            person=self.person.data or "",
            since=self.since.data,
            until=self.until.data,
            store_id=self.store.data or None,
        )

    def args(self) -> dict:
        """The filters that are set, as query arguments (for the next page and the CSV link)."""
        values = {
            "action": self.action.data,
            "person": self.person.data,
            "store": self.store.data,
            "since": self.since.data.isoformat() if self.since.data else None,
            "until": self.until.data.isoformat() if self.until.data else None,
        }
        return {name: value for name, value in values.items() if value}
