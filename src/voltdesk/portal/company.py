"""A company's users in the lounge: its administrator adds them, changes roles, deactivates.

* ``company_users`` lists the company's users (role, active or not) with a form
  to add one; ``company_user`` is one of them, with the forms to change the
  role, send a new set-password link or deactivate (each a POST to it).
* Only an active administrator of a business reaches them: other company users
  get 403; a household has no company, so for a residential customer the pages
  do not exist (404, as the club page).
* A user of another company is 404: users are looked up within the customer
  the signed-in user acts for (``core.access.customer_of``).
* The rules (last administrator, unique user names, audit) are the service's
  (``customers.company_users``); a refusal is shown beside its field.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from voltdesk.core.choices import Language
from voltdesk.core.services import get_utility
from voltdesk.customers import company_users as service
from voltdesk.customers.choices import CompanyRole, CustomerKind

from .views import customer_required

_INPUT = {"class": "form-control form-control-sm"}
_SELECT = {"class": "form-select form-select-sm"}


def _role_choices():
    return [(role.value, role.label) for role in service.COMPANY_ROLES]


class _Form(forms.Form):
    """Marks a field with an error as invalid, and points it at its message."""

    def add_error(self, field, error):
        super().add_error(field, error)
        names = list(error) if field is None and isinstance(error, dict) else [field]
        for name in names:
            attrs = self.fields[name].widget.attrs if name in self.fields else None
            if attrs is not None and "is-invalid" not in attrs.get("class", ""):
                attrs["class"] = attrs.get("class", "") + " is-invalid"
                attrs["aria-describedby"] = f"{self[name].auto_id}-error"


class AddUserForm(_Form):
    username = forms.CharField(
        label=gettext_lazy("User name"),
        max_length=150,
        widget=forms.TextInput({**_INPUT, "autocomplete": "off", "autocapitalize": "none"}),
    )
    email = forms.EmailField(
        label=gettext_lazy("E-mail"),
        max_length=254,
        help_text=gettext_lazy("The link to set a password is sent here."),
        widget=forms.EmailInput(_INPUT),
    )
    first_name = forms.CharField(
        label=gettext_lazy("First name"),
        max_length=150,
        required=False,
        widget=forms.TextInput(_INPUT),
    )
    last_name = forms.CharField(
        label=gettext_lazy("Last name"),
        max_length=150,
        required=False,
        widget=forms.TextInput(_INPUT),
    )
    company_role = forms.ChoiceField(
        label=gettext_lazy("Company role"),
        choices=_role_choices,
        widget=forms.Select(attrs=_SELECT),
    )
    language = forms.ChoiceField(
        label=gettext_lazy("Language"),
        choices=Language.choices,
        help_text=gettext_lazy("The e-mail and the lounge speak it."),
        widget=forms.Select(attrs=_SELECT),
    )

    def clean_username(self):
        # Said at once with the other fields' errors; the service checks again on adding.
        try:
            return service.check_username(self.cleaned_data["username"])
        except service.CompanyUserError as exc:
            raise forms.ValidationError(exc.message) from None


class RoleForm(_Form):
    company_role = forms.ChoiceField(
        label=gettext_lazy("Company role"),
        choices=_role_choices,
        widget=forms.Select(attrs=_SELECT),
    )


def _invalid_choice(form) -> None:
    for field in form.fields.values():
        if isinstance(field, forms.ChoiceField):
            field.error_messages["invalid_choice"] = _(
                "Choose one of the listed values; %(value)s is not among them."
            )


def _error_to_form(form, exc: service.CompanyUserError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _admin_only(request, customer) -> None:
    """Households have no company (404); a company user who is not its administrator, 403."""
    if customer.kind != CustomerKind.BUSINESS:
        raise Http404
    if not service.manages_users(request.user, customer):
        raise PermissionDenied


def _render_list(request, customer, form):
    return render(
        request,
        "portal/company_users.html",
        {
            "nav": "company_users",
            "customer": customer,
            "links": service.list_company_users(customer),
            "form": form,
            "roles": _role_choices(),
        },
    )


@customer_required
def company_users(request, customer):
    """The company's users, and a form to add one."""
    _admin_only(request, customer)
    form = AddUserForm(
        request.POST or None,
        initial={"company_role": CompanyRole.FINANCE, "language": _default_language(customer)},
    )
    _invalid_choice(form)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            link = service.add_company_user(request.user, customer, **data)
        except service.NotCompanyAdmin:
            raise PermissionDenied from None
        except service.CompanyUserError as exc:
            _error_to_form(form, exc)
        else:
            messages.success(
                request,
                _("%(username)s was added. We sent a link to set a password to %(email)s.")
                % {"username": link.user.get_username(), "email": link.user.email},
            )
            return redirect("portal:company_users")
    return _render_list(request, customer, form)


def _default_language(customer) -> str:
    return customer.language or get_utility().default_language


@customer_required
def company_user(request, customer, pk):
    """One company user: change the role, send a new link, or deactivate (POST ``action``)."""
    _admin_only(request, customer)
    link = get_object_or_404(service.list_company_users(customer), pk=pk)
    role_form = RoleForm(initial={"company_role": link.company_role})
    error = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "role":
                role_form = RoleForm(request.POST)
                _invalid_choice(role_form)
                if role_form.is_valid():
                    role = role_form.cleaned_data["company_role"]
                    service.change_company_role(request.user, link, role)
                    # An administrator who gave up the role no longer manages users.
                    gave_up = link.user_id == request.user.pk and role != CompanyRole.ADMIN
                    return _done(request, _role_changed(link, role), home=gave_up)
            elif action == "link":
                service.send_set_password_link(request.user, link)
                return _done(
                    request,
                    _("We sent %(username)s a new link to set a password, to %(email)s.")
                    % {"username": link.user.get_username(), "email": link.user.email},
                )
            elif action == "deactivate":
                service.deactivate_company_user(request.user, link)
                return _done(
                    request,
                    _("%(username)s is deactivated and can no longer log in.")
                    % {"username": link.user.get_username()},
                )
            else:
                error = _("Choose what to do: change the role, send a new link or deactivate.")
        except service.NotCompanyAdmin:
            raise PermissionDenied from None
        except service.CompanyUserError as exc:
            if action == "role" and exc.field in role_form.fields:
                role_form.add_error(exc.field, exc.message)
            else:
                error = exc.message
    return render(
        request,
        "portal/company_user.html",
        {
            "nav": "company_users",
            "customer": customer,
            "link": link,
            "role_form": role_form,
            "error": error,
        },
    )


def _role_changed(link, role) -> str:
    return _("%(username)s is now %(role)s.") % {
        "username": link.user.get_username(),
        "role": CompanyRole(role).label,
    }


def _done(request, message: str, *, home: bool = False):
    messages.success(request, message)
    return redirect("portal:home" if home else "portal:company_users")
