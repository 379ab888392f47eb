"""Forms of the booking pages and the online application; the rules are in the services."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .applications import MAX_FILES
from .choices import ApplicationKind, RemindBy, Supply, UseChange
from .models import ServiceHall
from .services import NOTE_MAX, bookable_kinds

_SELECT = {"class": "form-select"}


class HallKindForm(forms.Form):
    """Step one of booking: the hall, the business and (optionally) the day."""

    hall = forms.ChoiceField(label=gettext_lazy("Service hall"), widget=forms.Select(_SELECT))
    kind = forms.ChoiceField(label=gettext_lazy("Kind of business"), widget=forms.Select(_SELECT))
    day = forms.DateField(
        label=gettext_lazy("Day"),
        required=False,
        widget=forms.DateInput(attrs={"class": "form-control", "type": "date"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        halls = ServiceHall.objects.filter(active=True).order_by("name")
        self.fields["hall"].choices = [(h.code, f"{h.name} · {h.address}") for h in halls]
        self.fields["kind"].choices = [(k.code, k.get_code_display()) for k in bookable_kinds()]
        for field in self.fields.values():
            field.error_messages["invalid_choice"] = _(
                "Choose one of the listed values; %(value)s is not among them."
            )
        self.fields["day"].error_messages["invalid"] = _("Enter the day as YYYY-MM-DD.")

    def hall_obj(self):
        return ServiceHall.objects.get(code=self.cleaned_data["hall"])

    def kind_obj(self):
        return bookable_kinds().get(code=self.cleaned_data["kind"])


def parse_slot(value: str, zone: ZoneInfo) -> datetime | None:
    """A slot start from the form (ISO, local time when it has no offset), or None."""
    try:
        at = datetime.fromisoformat((value or "").strip())
    except ValueError:
        return None
    return at.replace(tzinfo=zone) if at.tzinfo is None else at


class SlotForm(forms.Form):
    """Step two: the slot, how to be reminded, a note for the hall."""

    slot = forms.CharField(
        label=gettext_lazy("Time"), error_messages={"required": gettext_lazy("Choose a time.")}
    )
    remind_by = forms.ChoiceField(
        label=gettext_lazy("Remind me by"),
        choices=RemindBy.choices,
        widget=forms.Select(_SELECT),
    )
    note = forms.CharField(
        label=gettext_lazy("Note for the hall"),
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 2}),
    )

    def __init__(self, *args, zone: ZoneInfo, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = zone

    def clean_slot(self):
        at = parse_slot(self.cleaned_data["slot"], self.zone)
        if at is None:
            raise forms.ValidationError(_("This is not a time: choose one of the listed slots."))
        return at


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "widget",
            MultipleFileInput(
                attrs={"class": "form-control", "accept": ".pdf,.jpg,.jpeg,.png,application/pdf"}
            ),
        )
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class ApplicationForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("What do you apply for?"),
        choices=ApplicationKind.choices,
        widget=forms.Select(_SELECT),
    )
    supply = forms.ChoiceField(
        label=gettext_lazy("Supply (new connection)"),
        required=False,
        choices=[("", "–"), *Supply.choices],
        widget=forms.Select(_SELECT),
    )
    change = forms.ChoiceField(
        label=gettext_lazy("What changes (change of use)"),
        required=False,
        choices=[("", "–"), *UseChange.choices],
        widget=forms.Select(_SELECT),
    )
    site_ref = forms.ChoiceField(
        label=gettext_lazy("Site"), required=False, widget=forms.Select(_SELECT)
    )
    address = forms.CharField(
        label=gettext_lazy("Address of the new supply"),
        required=False,
        max_length=300,
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "street-address"}),
    )
    requested_kva = forms.DecimalField(
        label=gettext_lazy("Capacity asked for (kVA)"),
        required=False,
        max_digits=10,
        decimal_places=1,
        widget=forms.NumberInput(attrs={"class": "form-control", "step": "0.1", "min": "0"}),
    )
    description = forms.CharField(
        label=gettext_lazy("Anything we should know"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 3}),
    )
    documents = MultipleFileField(
        label=gettext_lazy("Documents to attach"),
        required=False,
    )

    def __init__(self, *args, sites=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["documents"].help_text = _(
            "PDF, JPEG or PNG, at most 10 MB each, up to %(count)s files."
        ) % {"count": MAX_FILES}
        self.fields["site_ref"].choices = [("", "–")] + [
            (s.ref, f"{s.ref} {s.address}".strip()) for s in sites
        ]
        for name in ("kind", "supply", "change", "site_ref"):
            self.fields[name].error_messages["invalid_choice"] = _(
                "Choose one of the listed values; %(value)s is not among them."
            )


def error_to_form(form, exc) -> None:
    """A service error shown next to its field (else above the form)."""
    field = {"site": "site_ref", "day": "slot", "hall": "slot", "kind": "slot"}.get(
        exc.field, exc.field
    )
    form.add_error(field if field in form.fields else None, exc.message)
