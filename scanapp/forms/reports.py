"""Report filters and the trace search: GET forms (no CSRF token: they change nothing), shape checks only."""

from datetime import date

from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from scanapp.models import CATEGORIES
from scanapp.services.reports import Filters

FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)
STORE_MESSAGE = "Choose one of your stores."
SUPPLIER_MESSAGE = "Choose a supplier from the list."
EXTRA_FIELDS = ("days", "threshold")


def _strip(value) -> str:
    return (value or "").strip()


class FilterForm(FlaskForm):
    """Which stores, supplier, category and dates a report covers; `days` and `threshold` only for the reports
    that use them (`extra`). The store choices are only the user's stores."""

    class Meta:
        csrf = False

    store = SelectField(
        "Store", coerce=int, default=0, invalid_value_message=STORE_MESSAGE, invalid_choice_message=STORE_MESSAGE
    )
    supplier = SelectField(
        "Supplier",
        coerce=int,
        default=0,
        invalid_value_message=SUPPLIER_MESSAGE,
        invalid_choice_message=SUPPLIER_MESSAGE,
    )
    category = SelectField(
        "Category",
        choices=[SelectChoice("", "All categories")] + [SelectChoice(c, c.title()) for c in CATEGORIES],
        default="",
        invalid_choice_message="Choose a category from the list.",
    )
    start = DateField("From", validators=[Optional()])
    end = DateField("To", validators=[Optional()])
    days = IntegerField(
        "No sale for (days)",
        default=90,
        validators=[Optional(), NumberRange(1, 3650, "Give a number of days from 1 to 3650.")],
        render_kw={"inputmode": "numeric"},
    )
    threshold = IntegerField(
        "Less than (% of received)",
        default=25,
        validators=[Optional(), NumberRange(1, 100, "Give a percentage from 1 to 100.")],
        render_kw={"inputmode": "numeric"},
    )

    def __init__(self, formdata, *, stores, suppliers, extra: tuple[str, ...] = (), **kwargs):
        super().__init__(formdata=formdata, **kwargs)
        for name in EXTRA_FIELDS:
            if name not in extra:  # a report that does not use it neither shows nor checks it
                delattr(self, name)
        self.store.choices = [SelectChoice(0, "All my stores")] + [SelectChoice(s.id, s.name) for s in stores]
        self.supplier.choices = [SelectChoice(0, "All suppliers")] + [SelectChoice(i, name) for i, name in suppliers]

    def validate_start(self, field) -> None:
        _check_year(field.data)

    def validate_end(self, field) -> None:
        _check_year(field.data)
        if field.data and self.start.data and field.data < self.start.data:
            raise ValidationError("The end date is before the start date.")

    def filters(self) -> Filters:
        """The filters as the report services take them."""
        days = self.days.data if "days" in self else None
        threshold = self.threshold.data if "threshold" in self else None
        return Filters(
            store_ids=(self.store.data,) if self.store.data else (),
            supplier_id=self.supplier.data or None,
            category=self.category.data or None,
            start=self.start.data,
            end=self.end.data,
            days=days or Filters.days,
            threshold=threshold or Filters.threshold,
        )

    def args(self) -> dict[str, str]:
        """The filters as given, for links (the CSV export) that keep them."""
        return {f.name: f.raw_data[0] for f in self if f.raw_data and f.raw_data[0] not in ("", "0")}


def _check_year(day: date | None) -> None:
    if day is not None and not FIRST_DAY <= day <= LAST_DAY:
        raise ValidationError(f"Give a date from {FIRST_DAY.year} to {LAST_DAY.year}.")


class TraceForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(
        "Lot number, supplier invoice or PO, certificate, or serial",
        validators=[Length(max=100, message="Type at most 100 characters.")],
        filters=[_strip],
        render_kw={
            "autocomplete": "off",
            "autocapitalize": "characters",
            "spellcheck": "false",
            "enterkeyhint": "search",
        },
    )
