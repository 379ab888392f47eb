"""Admin for halls (hours, closures), bookable business, bookings and applications.

Bookings and applications change through the services (the portal and the
desk), so the admin shows them read-only.
"""

from django.contrib import admin

from .models import (
    Application,
    Booking,
    BusinessKind,
    HallClosure,
    OpeningHours,
    ServiceHall,
)


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 0


class HallClosureInline(admin.TabularInline):
    model = HallClosure
    extra = 0


@admin.register(ServiceHall)
class ServiceHallAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "area", "slot_minutes", "capacity", "horizon_days", "active"]
    list_filter = ["active", "area"]
    search_fields = ["name", "code", "address"]
    filter_horizontal = ["kinds"]
    inlines = [OpeningHoursInline, HallClosureInline]


@admin.register(BusinessKind)
class BusinessKindAdmin(admin.ModelAdmin):
    list_display = ["code", "notice_key", "business_notice_key", "active", "rank"]
    list_editable = ["active", "rank"]


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Booking)
class BookingAdmin(ReadOnly):
    list_display = ["reference", "hall", "kind", "customer", "starts_at", "status", "reminded_at"]
    list_filter = ["status", "hall", "kind"]
    search_fields = ["reference", "customer__ref", "customer__name"]
    date_hierarchy = "starts_at"


@admin.register(Application)
class ApplicationAdmin(ReadOnly):
    list_display = ["work_order", "customer", "kind", "supply", "change", "created_at"]
    list_filter = ["kind", "supply"]
    search_fields = ["customer__ref", "customer__name", "address"]
