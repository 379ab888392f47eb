"""Admin for prepaid packages: the offer's terms (bonus rate, levels), packages and their months."""

from django.contrib import admin

from .models import AutoDebit, DebitMandate, Package, PackageMonth, PackageRefund, PrepaidSettings


@admin.register(PrepaidSettings)
class PrepaidSettingsAdmin(admin.ModelAdmin):
    list_display = ["bonus_rate", "levels", "rounding_step", "typical_annual_kwh", "shortfall_days"]


class PackageMonthInline(admin.TabularInline):
    model = PackageMonth
    extra = 0
    can_delete = False
    readonly_fields = [
        "month",
        "amount",
        "bonus",
        "payment",
        "bill",
        "deducted",
        "shortfall",
        "pay_by",
    ]
    fields = readonly_fields


@admin.register(Package)
class PackageAdmin(admin.ModelAdmin):
    list_display = ["__str__", "customer", "status", "monthly_amount", "first_month", "last_month"]
    list_filter = ["status"]
    search_fields = ["customer__ref", "customer__name", "provider_ref"]
    raw_id_fields = ["customer", "contract", "created_by"]
    readonly_fields = ["provider_ref", "idempotency_key", "paid_at", "bought_at"]
    inlines = [PackageMonthInline]


@admin.register(DebitMandate)
class DebitMandateAdmin(admin.ModelAdmin):
    list_display = ["__str__", "customer", "holder", "status", "created_at"]
    list_filter = ["status"]
    raw_id_fields = ["customer"]
    readonly_fields = ["token"]


@admin.register(AutoDebit)
class AutoDebitAdmin(admin.ModelAdmin):
    list_display = ["bank_ref", "amount", "status", "reason", "created_at", "answered_at"]
    list_filter = ["status"]
    raw_id_fields = ["package_month", "mandate"]


@admin.register(PackageRefund)
class PackageRefundAdmin(admin.ModelAdmin):
    list_display = ["package", "move_out_on", "months_unused", "amount", "status"]
    list_filter = ["status"]
    raw_id_fields = ["package", "requested_by"]
