from django.contrib import admin

from .models import (
    AffectedFeeder,
    CallListEntry,
    DemandEvent,
    DemandProposal,
    EventWarning,
    LoadForecast,
    SheddingWindow,
    VenDelivery,
    VenRegistration,
    VenReport,
)


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


@admin.register(VenRegistration)
class VenRegistrationAdmin(admin.ModelAdmin):
    # Setting a VEN inactive takes it out of service (docs/openadr.md).
    list_display = ["ven_name", "customer", "active", "last_seen_at"]
    list_filter = ["active"]
    search_fields = ["ven_name", "ven_id", "customer__ref", "customer__name"]
    raw_id_fields = ["customer"]
    filter_horizontal = ["sites"]


@admin.register(VenDelivery)
class VenDeliveryAdmin(admin.ModelAdmin):
    list_display = ["event", "ven", "status", "signal_level", "opt_type", "sent_at", "opted_at"]
    list_filter = ["status", "opt_type"]
    raw_id_fields = ["event", "ven"]


@admin.register(VenReport)
class VenReportAdmin(admin.ModelAdmin):
    list_display = ["ven", "event", "measured_at", "kw"]
    raw_id_fields = ["ven", "event"]


@admin.register(DemandProposal)
class DemandProposalAdmin(admin.ModelAdmin):
    list_display = ["day", "reason", "region", "forecast", "margin", "status", "event"]
    list_filter = ["status", "reason"]
    raw_id_fields = ["event", "decided_by"]


@admin.register(LoadForecast)
class LoadForecastAdmin(admin.ModelAdmin):
    list_display = ["day", "region", "peak_mw", "peak_hour"]
    list_filter = ["region"]
