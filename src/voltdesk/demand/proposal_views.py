"""Desk pages of proposed excess-demand events, at /desk/demand/proposals/.

* ``proposals``: the open proposals (a forecast crossed the utility's margin)
  with why, the suggested window and severity, and the last decisions;
* ``declare`` (POST): the demand manager declares one, as suggested or with a
  changed window, severity or narrower areas (``proposals.declare_proposal``);
* ``dismiss`` (POST): sets one aside (``proposals.dismiss_proposal``).

Only demand managers (``demand.declare_demandevent``) see and use them.
"""

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from voltdesk.core.models import Area
from voltdesk.core.services import utility_zone
from voltdesk.knowledge.review_views import permission_required

from . import proposals
from .choices import ProposalStatus, Severity
from .models import DemandProposal
from .services import DemandError

DECLARE = "demand.declare_demandevent"
_LOCAL = "%Y-%m-%dT%H:%M"


class DeclareProposalForm(forms.Form):
    severity = forms.ChoiceField(label=gettext_lazy("Severity"), choices=Severity.choices)
    starts_at = forms.DateTimeField(
        label=gettext_lazy("Starts at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=_LOCAL),
    )
    ends_at = forms.DateTimeField(
        label=gettext_lazy("Ends at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=_LOCAL),
    )
    areas = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Only these areas"),
        queryset=Area.objects.none(),
        required=False,
        help_text=gettext_lazy("none chosen: the whole scope of the proposal"),
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )

    def __init__(self, *args, proposal: DemandProposal, **kwargs):
        zone = utility_zone()
        kwargs.setdefault(
            "initial",
            {
                "severity": proposal.severity,
                "starts_at": proposal.starts_at.astimezone(zone).replace(tzinfo=None),
                "ends_at": proposal.ends_at.astimezone(zone).replace(tzinfo=None),
            },
        )
        kwargs.setdefault("prefix", f"p{proposal.pk}")
        super().__init__(*args, **kwargs)
        areas = Area.objects.select_related("region").order_by("region__name", "name")
        if proposal.region_id:
            areas = areas.filter(region_id=proposal.region_id)
        self.fields["areas"].queryset = areas
        for name, field in self.fields.items():
            select = isinstance(field.widget, forms.Select)
            classes = "form-select form-select-sm" if select else "form-control form-control-sm"
            field.widget.attrs.setdefault("class", classes)
            field.widget.attrs.setdefault("data-field", name)

    def local(self, name: str):
        value = self.cleaned_data[name]
        if timezone.is_naive(value):
            return timezone.make_aware(value, utility_zone())
        return value


def _page(request, forms_by_pk=None, status=200):
    today = timezone.now().astimezone(utility_zone()).date()
    forms_by_pk = forms_by_pk or {}
    rows = [
        {
            "proposal": p,
            "why": proposals.explain(p),
            "form": forms_by_pk.get(p.pk) or DeclareProposalForm(proposal=p),
        }
        for p in proposals.open_proposals(today).select_related("region")
    ]
    decided = (
        DemandProposal.objects.exclude(status=ProposalStatus.PROPOSED)
        .select_related("region", "event", "decided_by")
        .order_by("-decided_at", "-pk")[:30]
    )
    context = {
        "nav": "demand",
        "rows": rows,
        "decided": [{"proposal": p, "why": proposals.explain(p)} for p in decided],
    }
    return render(request, "demand/proposals.html", context, status=status)


@permission_required(DECLARE)
def proposal_list(request):
    return _page(request)


@require_POST
@permission_required(DECLARE)
def declare(request, pk):
    proposal = get_object_or_404(DemandProposal, pk=pk)
    form = DeclareProposalForm(request.POST, proposal=proposal)
    if not form.is_valid():
        return _page(request, {proposal.pk: form}, status=400)
    try:
        event = proposals.declare_proposal(
            proposal,
            request.user,
            severity=form.cleaned_data["severity"],
            starts_at=form.local("starts_at"),
            ends_at=form.local("ends_at"),
            areas=tuple(form.cleaned_data["areas"]),
        )
    except DemandError as exc:
        form.add_error(None, str(exc))
        return _page(request, {proposal.pk: form}, status=400)
    messages.success(request, _("The proposed event is declared; warnings are going out."))
    return redirect("desk:demand:event", pk=event.pk)


@require_POST
@permission_required(DECLARE)
def dismiss(request, pk):
    proposal = get_object_or_404(DemandProposal, pk=pk)
    try:
        proposals.dismiss_proposal(proposal, request.user, note=request.POST.get("note", ""))
    except DemandError as exc:
        messages.error(request, str(exc))
        return _page(request, status=400)
    messages.success(request, _("The proposal is dismissed."))
    return redirect("desk:demand:proposals")
