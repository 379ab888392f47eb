"""Forms of the club pages: they parse input; the rules live in the services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import AccountManager


class ScheduleMeetingForm(forms.Form):
    """When and where: a local date-time of the utility's time zone and a place."""

    at = forms.DateTimeField(
        label=_("Date and time"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local", "class": "form-control"}, format="%Y-%m-%dT%H:%M"
        ),
    )
    location = forms.CharField(
        label=_("Location"),
        max_length=200,
        widget=forms.TextInput(attrs={"class": "form-control"}),
        help_text=_("The customer's address, our office, or a video-call link."),
    )


class RecordMeetingForm(forms.Form):
    minutes = forms.CharField(
        label=_("Minutes"), widget=forms.Textarea(attrs={"rows": 5, "class": "form-control"})
    )
    outcomes = forms.CharField(
        label=_("Outcomes and agreed actions"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
    )


class ReassignForm(forms.Form):
    """A supervisor moves a member to another account manager."""

    customer = forms.CharField(label=_("Customer number"), max_length=40)
    manager = forms.ModelChoiceField(
        label=_("New account manager"),
        queryset=AccountManager.objects.filter(active=True).select_related("user"),
        empty_label=None,
    )
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)


class SurveyPeriodForm(forms.Form):
    """The period of survey results (local days, both included)."""

    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end of the period is before its start."))
        return data


CSAT_CHOICES = [
    (1, _("1 – very dissatisfied")),
    (2, _("2 – dissatisfied")),
    (3, _("3 – neither")),
    (4, _("4 – satisfied")),
    (5, _("5 – very satisfied")),
]
NPS_CHOICES = [(n, str(n)) for n in range(11)]


class SurveyForm(forms.Form):
    """CSAT 1–5 and NPS 0–10 as radio buttons, and a comment."""

    csat = forms.TypedChoiceField(
        label=_("How satisfied are you with our service?"),
        choices=CSAT_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how satisfied you are, from 1 to 5.")},
    )
    nps = forms.TypedChoiceField(
        label=_("How likely are you to recommend us to a colleague?"),
        help_text=_("0 = not at all likely, 10 = extremely likely"),
        choices=NPS_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how likely you are to recommend us, from 0 to 10.")},
    )
    comment = forms.CharField(
        label=_("Anything you would like to tell us?"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "class": "form-control"}),
    )
