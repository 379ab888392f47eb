"""The administrator's view of the business club.

Evaluation runs, decisions and periods are the record of what the rule
decided: read-only here (they change only through an evaluation). Managers,
assignments, meetings, tasks and surveys are editable for repairs; the desk
pages go through the services, which write the audit trail.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import (
    AccountManager,
    EligibilityRun,
    Meeting,
    Membership,
    MembershipDecision,
    MembershipPeriod,
    PortfolioAssignment,
    SurveyResponse,
    Task,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewable, never added, changed or deleted by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class DecisionInline(admin.TabularInline):
    model = MembershipDecision
    extra = 0
    can_delete = False
    fields = ["run", "kind", "reason", "annual_kwh", "site_count", "threshold_kwh"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class PeriodInline(admin.TabularInline):
    model = MembershipPeriod
    extra = 0
    can_delete = False
    fields = ["joined_on", "left_on", "joined_by", "left_by"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(EligibilityRun)
class EligibilityRunAdmin(ReadOnlyAdmin):
    list_display = ["as_of", "rule", "customers", "joined", "left", "stayed", "finished_at"]
    list_filter = ["rule"]
    date_hierarchy = "as_of"


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ["customer", "status", "since", "annual_kwh", "site_count", "last_run"]
    list_filter = ["status"]
    search_fields = ["customer__ref", "customer__name"]
    list_select_related = ["customer", "last_run"]
    inlines = [PeriodInline, DecisionInline]


@admin.register(MembershipDecision)
class MembershipDecisionAdmin(ReadOnlyAdmin):
    list_display = ["membership", "run", "kind", "reason", "annual_kwh", "threshold_kwh"]
    list_filter = ["kind", "reason"]
    search_fields = ["membership__customer__ref", "membership__customer__name"]
    list_select_related = ["membership__customer", "run"]


@admin.register(MembershipPeriod)
class MembershipPeriodAdmin(ReadOnlyAdmin):
    list_display = ["membership", "joined_on", "left_on"]
    search_fields = ["membership__customer__ref", "membership__customer__name"]
    list_select_related = ["membership__customer"]


class AssignmentInline(admin.TabularInline):
    model = PortfolioAssignment
    extra = 0
    fields = ["customer", "start", "end", "reason", "assigned_by"]
    readonly_fields = fields
    can_delete = False
    verbose_name_plural = _("portfolio history")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(AccountManager)
class AccountManagerAdmin(admin.ModelAdmin):
    list_display = ["__str__", "region", "phone", "email", "active"]
    list_filter = ["active", "region"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "email"]
    list_select_related = ["user", "region"]
    autocomplete_fields = ["user"]
    inlines = [AssignmentInline]


@admin.register(PortfolioAssignment)
class PortfolioAssignmentAdmin(admin.ModelAdmin):
    list_display = ["customer", "manager", "start", "end", "reason", "assigned_by"]
    list_filter = ["manager"]
    search_fields = ["customer__ref", "customer__name"]
    list_select_related = ["customer", "manager__user", "assigned_by"]
    raw_id_fields = ["customer"]


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "manager", "customer", "due_on", "done_at"]
    list_filter = ["kind", "manager"]
    search_fields = ["title", "customer__ref", "customer__name"]
    list_select_related = ["customer", "manager__user"]
    raw_id_fields = ["customer"]
    date_hierarchy = "due_on"


@admin.register(Meeting)
class MeetingAdmin(admin.ModelAdmin):
    list_display = ["customer", "manager", "year", "due_by", "status", "scheduled_at"]
    list_filter = ["status", "year", "manager"]
    search_fields = ["customer__ref", "customer__name"]
    list_select_related = ["customer", "manager__user"]
    raw_id_fields = ["customer", "task"]
    readonly_fields = ["sequence", "invitation_ics"]


@admin.register(SurveyResponse)
class SurveyResponseAdmin(admin.ModelAdmin):
    list_display = ["customer", "context", "manager", "sent_at", "answered_at", "csat", "nps"]
    list_filter = ["context", "manager"]
    search_fields = ["customer__ref", "customer__name", "work_order_ref"]
    list_select_related = ["customer", "manager__user"]
    raw_id_fields = ["customer", "meeting"]
    readonly_fields = ["token", "sent_at", "answered_at", "csat", "nps", "comment"]
