"""Forms of the work-order pages: they parse input; the services decide."""

from django import forms
from django.urls import reverse_lazy
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from .choices import SUBTYPES_OF, Channel, OrderType, Priority, Subtype

_INPUT = {"class": "form-control form-control-sm"}
_SELECT = {"class": "form-select form-select-sm"}

# A service error names its input with the service's word; the form's field may differ.
SERVICE_FIELDS = {"type": "order_type"}


def subtype_choices():
    """Known subtypes grouped under their type, so the select reads like the catalogue."""
    labels = dict(Subtype.choices)
    return [("", "–")] + [
        (OrderType(order_type).label, [(code, labels[code]) for code in codes])
        for order_type, codes in SUBTYPES_OF.items()
    ]


def error_to_form(form, exc) -> None:
    """A service error shown next to its field (else above the form)."""
    field = SERVICE_FIELDS.get(exc.field, exc.field)
    form.add_error(field if field in form.fields else None, str(exc))


class IntakeForm(forms.Form):
    """A contact taken at the desk. Field order is the keyboard order of a call."""

    order_type = forms.ChoiceField(
        label=_("Type"),
        choices=OrderType.choices,
        initial=OrderType.FAULT,
        widget=forms.Select(attrs=_SELECT),
    )
    subtype = forms.ChoiceField(
        label=_("Subtype"),
        choices=subtype_choices,
        required=False,
        widget=forms.Select(attrs=_SELECT),
    )
    channel = forms.ChoiceField(
        label=_("Channel"),
        choices=Channel.choices,
        initial=Channel.HOTLINE,
        widget=forms.Select(attrs=_SELECT),
    )
    description = forms.CharField(
        label=_("What the caller says"),
        max_length=4000,
        required=False,
        # Answers from the knowledge base while the agent types (the page's script sends
        # the text as q and the order type as type).
        widget=forms.Textarea(
            attrs={
                **_INPUT,
                "rows": 4,
                "hx-get": reverse_lazy("desk:knowledge:suggest"),
                # "input", not "keyup": input methods (Chinese, Hebrew) and pasting fire no keyup.
                "hx-trigger": "input changed delay:250ms, change from:#id_order_type",
                "hx-target": "#knowledge-suggestions",
                "hx-sync": "this:replace",
            }
        ),
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"),
        choices=[("", _("Automatic")), *Priority.choices],
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.Select(attrs=_SELECT),
    )
    customer_ref = forms.CharField(
        label=_("Customer number"), max_length=40, required=False, widget=forms.TextInput(_INPUT)
    )
    site_ref = forms.CharField(
        label=_("Site number"),
        max_length=40,
        required=False,
        widget=forms.TextInput({**_INPUT, "list": "caller-sites", "autocomplete": "off"}),
    )
    caller_name = forms.CharField(
        label=_("Caller's name"), max_length=200, required=False, widget=forms.TextInput(_INPUT)
    )
    caller_phone = forms.CharField(
        label=_("Caller's phone"),
        max_length=30,
        required=False,
        widget=forms.TextInput({**_INPUT, "type": "tel", "dir": "ltr"}),
    )
    caller_email = forms.CharField(
        label=capfirst(_("caller's e-mail")),  # the model's words, already translated
        max_length=254,
        required=False,
        widget=forms.TextInput({**_INPUT, "type": "email", "dir": "ltr"}),
    )


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Comment"), max_length=4000, widget=forms.Textarea(attrs={**_INPUT, "rows": 2})
    )
    internal = forms.BooleanField(
        label=_("Staff only"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )


class PortalOrderForm(forms.Form):
    """What a customer may open itself: a fault report, a request or a complaint."""

    order_type = forms.ChoiceField(
        label=_("What is it about?"),
        choices=[
            (OrderType.FAULT, _("Report a fault")),
            (OrderType.BUSINESS, _("Make a request")),
            (OrderType.COMPLAINT, _("Make a complaint")),
        ],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    site_ref = forms.ChoiceField(
        label=_("Site"), required=False, widget=forms.Select({"class": "form-select"})
    )
    description = forms.CharField(
        label=_("Tell us what happened"),
        max_length=4000,
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 4}),
    )

    def __init__(self, *args, sites=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site_ref"].choices = [("", "–")] + [
            (s.ref, f"{s.ref} {s.address}".strip()) for s in sites
        ]
