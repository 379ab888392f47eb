from django.contrib import admin

from .models import AffectedFeeder, CallListEntry, DemandEvent, EventWarning, SheddingWindow


class AffectedFeederInline(admin.TabularInline):
    model = AffectedFeeder
    extra = 0
    raw_id_fields = ["feeder"]


@admin.register(DemandEvent)
class DemandEventAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "severity", "status", "starts_at", "ends_at"]
    list_filter = ["kind", "severity", "status"]
    search_fields = ["title"]
    inlines = [AffectedFeederInline]
    filter_horizontal = ["regions", "areas", "feeders"]


@admin.register(SheddingWindow)
class SheddingWindowAdmin(admin.ModelAdmin):
    list_display = ["event", "feeder", "starts_at", "ends_at"]
    raw_id_fields = ["event", "feeder"]


@admin.register(CallListEntry)
class CallListEntryAdmin(admin.ModelAdmin):
    list_display = ["event", "customer", "manager", "due_at", "outcome", "acknowledged_at"]
    list_filter = ["outcome"]
    raw_id_fields = ["event", "customer", "manager", "called_by"]


@admin.register(EventWarning)
class EventWarningAdmin(admin.ModelAdmin):
    list_display = ["event", "customer", "channel", "created_at"]
    list_filter = ["channel"]
    raw_id_fields = ["event", "customer", "message"]
