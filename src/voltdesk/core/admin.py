"""Administration of the utility's profile and its network; the audit trail is read-only."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Area, AuditEntry, Feeder, Region, Utility


@admin.register(Utility)
class UtilityAdmin(admin.ModelAdmin):
    """The one utility: the administrator edits its profile; it is created by ``voltdesk init``."""

    list_display = ["name", "profile", "country", "currency", "time_zone", "default_language"]
    readonly_fields = ["profile", "created_at"]
    fieldsets = [
        (None, {"fields": ["name", "profile", "created_at"]}),
        (
            _("Locale"),
            {"fields": ["country", "currency", "time_zone", "default_language", "holiday_country"]},
        ),
        (_("Service lines"), {"fields": ["fault_line", "service_line"]}),
        (
            _("Business club"),
            {"fields": ["vip_single_site_kwh", "vip_multi_site_kwh", "vip_window_months"]},
        ),
        (_("Billing"), {"fields": ["vat_rate"]}),
        (
            _("Excess demand"),
            {
                "fields": [
                    "planned_outage_notice_days",
                    "temporary_outage_notice_hours",
                    "demand_call_lead_hours",
                    "demand_hot_day_celsius",
                    "demand_cold_day_celsius",
                    "demand_reserve_margin_pct",
                    "demand_forecast_days",
                ]
            },
        ),
    ]

    def has_add_permission(self, request):
        # One deployment is one utility; `voltdesk init` creates it.
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AreaInline(admin.TabularInline):
    model = Area
    fields = ["name", "kind"]
    extra = 0
    show_change_link = True


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["name", "capacity_mw"]
    search_fields = ["name"]
    inlines = [AreaInline]


class FeederInline(admin.TabularInline):
    model = Feeder
    fields = ["name"]
    extra = 0


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = ["name", "region", "kind"]
    list_filter = ["kind", "region"]
    list_select_related = ["region"]
    search_fields = ["name", "region__name"]
    inlines = [FeederInline]


@admin.register(Feeder)
class FeederAdmin(admin.ModelAdmin):
    list_display = ["name", "area", "region", "area_kind"]
    list_filter = ["area__kind", "area__region"]
    list_select_related = ["area__region"]
    search_fields = ["name", "area__name"]
    autocomplete_fields = ["area"]

    @admin.display(description=_("region"), ordering="area__region__name")
    def region(self, obj):
        return obj.area.region

    @admin.display(description=_("area kind"), ordering="area__kind")
    def area_kind(self, obj):
        return obj.area.get_kind_display()


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """The audit trail is evidence: nobody edits or deletes it, not even an administrator."""

    list_display = ["at", "actor", "action", "object_type", "object_id"]
    list_filter = ["action", "object_type"]
    search_fields = ["action", "object_type", "object_id", "actor__username"]
    date_hierarchy = "at"
    list_select_related = ["actor"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
