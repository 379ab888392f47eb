"""Input of the desk pages."""

import phonenumbers
from django import forms
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _


class CustomerSearchForm(forms.Form):
    """The agent's one search box: whatever the caller gives is tried everywhere."""

    q = forms.CharField(
        label=_("Search"),
        min_length=2,
        max_length=100,
        strip=True,
        help_text=_("Customer number, name, phone number or site number."),
    )

    def __init__(self, *args, country: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.country = country

    def _phone(self, text: str) -> str | None:
        """The number in E.164 as customers are stored, if the text is a phone number."""
        try:
            number = phonenumbers.parse(text, self.country)
        except phonenumbers.NumberParseException:
            return None
        if not phonenumbers.is_possible_number(number):
            return None
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    def filter(self, customers: QuerySet) -> QuerySet:
        """Narrow an access-scoped customer queryset to the matches of the cleaned query."""
        text = self.cleaned_data["q"]
        match = (
            Q(ref__iexact=text)
            | Q(ref__istartswith=text)
            | Q(name__icontains=text)
            | Q(sites__ref__istartswith=text)
            | Q(contracts__site__ref__istartswith=text)
            | Q(phone__contains=text)
            | Q(contacts__phone__contains=text)
        )
        phone = self._phone(text)
        if phone:
            match |= Q(phone=phone) | Q(contacts__phone=phone)
        matching = customers.filter(match).values("pk")
        # Filter by pk so the joins above do not multiply the site count.
        return (
            customers.filter(pk__in=matching)
            .annotate(site_count=Count("sites", distinct=True))
            .order_by("ref")
        )
