"""The business club in the customer lounge, and the satisfaction survey behind a link.

* ``club``: the customer's standing, its periods in the club and every decision
  in plain words, its account manager, the next meeting and surveys to answer.
* ``meeting_invitation``: the .ics of a meeting invitation (linked from the letter).
* ``survey``: answered from an e-mail or SMS link without logging in: the
  link's token is the credential (``core.access.survey_for_token``).
"""

from django.conf import settings
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone, translation
from django.views.decorators.cache import never_cache

from voltdesk.core.access import (
    survey_for_token,
    visible_decisions,
    visible_meetings,
    visible_memberships,
    visible_periods,
    visible_surveys,
)
from voltdesk.customers.choices import CustomerKind
from voltdesk.keyaccounts.choices import MeetingStatus, MembershipStatus
from voltdesk.keyaccounts.forms import SurveyForm
from voltdesk.keyaccounts.portfolio import current_manager
from voltdesk.keyaccounts.services import explain_decision
from voltdesk.keyaccounts.surveys import SurveyError, answer_survey
from voltdesk.keyaccounts.views import ics_response

from .views import customer_required


@customer_required
def club(request, customer):
    """The business club page (business customers only)."""
    if customer.kind != CustomerKind.BUSINESS:
        raise Http404
    user = request.user
    membership = visible_memberships(user).select_related("last_run").first()
    decisions = visible_decisions(user).select_related("run").order_by("-run__as_of", "-pk")
    explained = {d.pk: explain_decision(d) for d in decisions}
    periods = visible_periods(user).order_by("-joined_on")
    is_member = membership is not None and membership.status == MembershipStatus.MEMBER
    return render(
        request,
        "portal/club.html",
        {
            "nav": "club",
            "customer": customer,
            "membership": membership,
            "is_member": is_member,
            "periods": periods,
            "decisions": [(d, explained[d.pk]) for d in decisions],
            "manager": current_manager(customer) if is_member else None,
            "meetings": visible_meetings(user)
            .filter(status=MeetingStatus.SCHEDULED, scheduled_at__gte=timezone.now())
            .order_by("scheduled_at"),
            "surveys": visible_surveys(user)
            .filter(answered_at__isnull=True)
            .select_related("meeting"),
        },
    )


@customer_required
def meeting_invitation(request, customer, pk):
    meeting = get_object_or_404(
        visible_meetings(request.user)
        .exclude(invitation_ics="")
        .select_related("customer", "manager__user"),
        pk=pk,
    )
    return ics_response(meeting)


def _in_customers_language(request, customer) -> None:
    """A link opened without a language chosen speaks the customer's language."""
    if request.user.is_authenticated or settings.LANGUAGE_COOKIE_NAME in request.COOKIES:
        return
    if customer.language:
        translation.activate(customer.language)
        request.LANGUAGE_CODE = translation.get_language()


@never_cache
def survey(request, token):
    """CSAT and NPS with a comment, answered once; no log-in (the token is the credential)."""
    survey = survey_for_token(token)
    if survey is None:
        raise Http404
    _in_customers_language(request, survey.customer)
    context = {"survey": survey, "state": "form"}
    status = 200
    if survey.answered_at is not None:
        context["state"] = "answered"
        status = 409 if request.method == "POST" else 200
    else:
        form = SurveyForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                survey = answer_survey(
                    token,
                    csat=form.cleaned_data["csat"],
                    nps=form.cleaned_data["nps"],
                    comment=form.cleaned_data["comment"],
                )
            except SurveyError as exc:
                if exc.field in form.fields:
                    form.add_error(exc.field, exc.message)
                else:  # answered meanwhile (another tab)
                    context["state"] = "answered"
                    status = 409
            else:
                context.update(state="thanks", survey=survey)
        context["form"] = form
    response = render(request, "portal/survey.html", context, status=status)
    # The token is in the address: never pass it on to another site (same-origin still lets
    # the form post: no-referrer would send "Origin: null" and fail the CSRF check).
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
