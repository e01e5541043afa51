"""The inspection and release forms: shape checks only; services/inspections.py holds the rules."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, MultipleFileField, RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length

from scanapp.forms import id_or_none
from scanapp.forms.receiving import PiecesField, QuantityField
from scanapp.services.inspections import MAX_NOTES, MAX_REASON
from scanapp.services.receiving import MAX_WEIGHT

POINT_CHOICES = [SelectChoice("pass", "Pass"), SelectChoice("fail", "Fail"), SelectChoice("not_checked", "Not checked")]
RESULT_CHOICES = [SelectChoice("pass", "Pass"), SelectChoice("fail", "Fail"), SelectChoice("hold", "Hold")]


def _strip(value) -> str:
    return (value or "").strip()


def _weight(label: str) -> QuantityField:
    return QuantityField(
        label, places=3, maximum=MAX_WEIGHT, example="0.450", render_kw={"inputmode": "decimal", "autocomplete": "off"}
    )


def _pieces(label: str) -> PiecesField:
    return PiecesField(label, render_kw={"inputmode": "numeric", "autocomplete": "off"})


class InspectionForm(FlaskForm):
    """The fields every inspection has; `inspection_form` adds one choice per checklist point."""

    result = RadioField("Result", choices=RESULT_CHOICES, validators=[InputRequired("Choose the result.")])
    notes = TextAreaField("Notes", validators=[Length(max=MAX_NOTES)], filters=[_strip])
    photos = MultipleFileField(
        "Photos",
        render_kw={"accept": "image/*", "capture": "environment", "data-photo-input": True, "hx-preserve": "true"},
    )
    # A fail or hold: what goes into quarantine.
    hold_scope = RadioField(
        "What goes on hold",
        choices=[SelectChoice("all", "All of it here"), SelectChoice("part", "Part of it")],
        default="all",
    )
    hold_from = SelectField("Taken from", coerce=id_or_none, validate_choice=False)
    hold_pieces = _pieces("Pieces on hold")
    hold_weight = _weight("Weight on hold")
    # A lot's first inspection: what arrived, split three ways.
    accept_pieces = _pieces("Accepted pieces")
    accept_weight = _weight("Accepted weight")
    return_pieces = _pieces("Pieces back to supplier")
    return_weight = _weight("Weight back to supplier")
    event_id = HiddenField()

    points: list[tuple[str, str]] = []

    @property
    def point_fields(self) -> list:
        return [self[f"point_{point}"] for point, _ in self.points]


def inspection_form(points: tuple[tuple[str, str], ...], **kwargs) -> InspectionForm:
    """An inspection form with a pass / fail / not checked choice for each (point, label) of the checklist."""
    fields = {
        f"point_{point}": RadioField(label, choices=POINT_CHOICES, default="not_checked") for point, label in points
    }
    form_class = type("ChecklistForm", (InspectionForm,), {**fields, "points": list(points)})
    return form_class(**kwargs)


class ReleaseForm(FlaskForm):
    item_id = SelectField("What", coerce=id_or_none, validate_choice=False)
    pieces = _pieces("Pieces")
    weight = _weight("Weight")
    dest_id = SelectField(
        "Put it in", coerce=id_or_none, validate_choice=False, validators=[DataRequired("Choose where it goes.")]
    )
    reason = TextAreaField(
        "Reason",
        filters=[_strip],
        validators=[DataRequired("Give the reason for the release."), Length(max=MAX_REASON)],
    )
    event_id = HiddenField()
