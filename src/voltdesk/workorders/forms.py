"""Forms of the work-order pages: they parse input; the services decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import Channel, OrderType, Priority, Subtype

_INPUT = {"class": "form-control form-control-sm"}
_SELECT = {"class": "form-select form-select-sm"}


class IntakeForm(forms.Form):
    order_type = forms.ChoiceField(
        label=_("Type"), choices=OrderType.choices, widget=forms.Select(attrs=_SELECT)
    )
    subtype = forms.ChoiceField(
        label=_("Subtype"),
        choices=[("", "–"), *Subtype.choices],
        required=False,
        widget=forms.Select(attrs=_SELECT),
    )
    channel = forms.ChoiceField(
        label=_("Channel"),
        choices=Channel.choices,
        initial=Channel.HOTLINE,
        widget=forms.Select(attrs=_SELECT),
    )
    customer_ref = forms.CharField(
        label=_("Customer number"), max_length=40, required=False, widget=forms.TextInput(_INPUT)
    )
    site_ref = forms.CharField(
        label=_("Site number"), max_length=40, required=False, widget=forms.TextInput(_INPUT)
    )
    caller_name = forms.CharField(
        label=_("Caller's name"), max_length=200, required=False, widget=forms.TextInput(_INPUT)
    )
    caller_phone = forms.CharField(
        label=_("Caller's phone"), max_length=30, required=False, widget=forms.TextInput(_INPUT)
    )
    description = forms.CharField(
        label=_("What the caller says"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={**_INPUT, "rows": 4, "autofocus": True}),
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"),
        choices=[("", _("Automatic")), *Priority.choices],
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.Select(attrs=_SELECT),
    )


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Comment"), max_length=4000, widget=forms.Textarea(attrs={**_INPUT, "rows": 2})
    )
    internal = forms.BooleanField(label=_("Staff only"), required=False)


class PortalOrderForm(forms.Form):
    """What a customer may open itself: a fault report, a request or a complaint."""

    order_type = forms.ChoiceField(
        label=_("What is it about?"),
        choices=[
            (OrderType.FAULT, _("Report a fault")),
            (OrderType.BUSINESS, _("Make a request")),
            (OrderType.COMPLAINT, _("Make a complaint")),
        ],
        widget=forms.Select(attrs=_SELECT),
    )
    site_ref = forms.ChoiceField(label=_("Site"), required=False, widget=forms.Select(_SELECT))
    description = forms.CharField(
        label=_("Tell us what happened"),
        max_length=4000,
        widget=forms.Textarea(attrs={**_INPUT, "rows": 4}),
    )

    def __init__(self, *args, sites=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site_ref"].choices = [("", "–")] + [
            (s.ref, f"{s.ref} {s.address}".strip()) for s in sites
        ]
