from django.contrib import admin

from .models import Crew, Deadline, DeskAgent, Incident, Queue, SlaPolicy, Transition, WorkOrder


class TransitionInline(admin.TabularInline):
    model = Transition
    extra = 0
    can_delete = False
    readonly_fields = ["action", "from_status", "to_status", "actor", "note", "at"]


class DeadlineInline(admin.TabularInline):
    model = Deadline
    extra = 0
    can_delete = False
    readonly_fields = ["clock", "policy", "due_at", "met_at", "warned_at", "breached_at"]


@admin.register(WorkOrder)
class WorkOrderAdmin(admin.ModelAdmin):
    # Changes go through the desk (the state machine); the admin only reads.
    list_display = [
        "number",
        "order_type",
        "subtype",
        "channel",
        "status",
        "customer",
        "created_at",
    ]
    list_filter = ["status", "order_type", "channel", "is_member"]
    search_fields = ["pk", "customer__ref", "site__ref", "caller_phone"]
    raw_id_fields = ["customer", "site", "duplicate_of", "incident", "assignee", "created_by"]
    inlines = [DeadlineInline, TransitionInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "order_type",
        "subtype",
        "area_kind",
        "members_only",
        "clock",
        "basis",
        "minutes",
        "working_days",
        "active",
    ]
    list_filter = ["order_type", "clock", "members_only", "active"]


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "is_club_desk", "region", "skill", "rank", "active"]
    filter_horizontal = ["agents"]


admin.site.register(DeskAgent)
admin.site.register(Crew)
admin.site.register(Incident)
