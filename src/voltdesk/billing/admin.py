"""Administration of tariffs and their priced versions (rates, tiers, seasons, windows).

A version is edited here until bills use it; after that the administrator adds a
new version from the day the prices change (see docs/billing.md).
"""

from django.contrib import admin

from .models import BillingRun, Tariff, TariffRate, TariffVersion, TouSeason, TouWindow


class TariffVersionInline(admin.TabularInline):
    model = TariffVersion
    fields = ["valid_from", "valid_to", "tier_basis", "fixed_charge", "capacity_charge", "vat_rate"]
    extra = 0
    show_change_link = True


@admin.register(Tariff)
class TariffAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "description"]
    list_filter = ["kind"]
    search_fields = ["name", "description"]
    inlines = [TariffVersionInline]


class TariffRateInline(admin.TabularInline):
    model = TariffRate
    fields = ["season", "period", "up_to_kwh", "price"]
    extra = 0

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Only this version's seasons make sense for its rates.
        if db_field.name == "season":
            version_id = request.resolver_match.kwargs.get("object_id")
            kwargs["queryset"] = TouSeason.objects.filter(version_id=version_id or 0)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class TouSeasonInline(admin.TabularInline):
    model = TouSeason
    fields = ["name", "months"]
    extra = 0
    show_change_link = True


@admin.register(TariffVersion)
class TariffVersionAdmin(admin.ModelAdmin):
    list_display = ["tariff", "valid_from", "valid_to", "tier_basis", "fixed_charge", "vat_rate"]
    list_filter = ["tariff"]
    date_hierarchy = "valid_from"
    inlines = [TouSeasonInline, TariffRateInline]


class TouWindowInline(admin.TabularInline):
    model = TouWindow
    fields = ["day_kind", "start_hour", "end_hour", "period"]
    extra = 0


@admin.register(TouSeason)
class TouSeasonAdmin(admin.ModelAdmin):
    list_display = ["name", "version", "months"]
    list_filter = ["version__tariff"]
    inlines = [TouWindowInline]


@admin.register(BillingRun)
class BillingRunAdmin(admin.ModelAdmin):
    list_display = ["period", "status", "started_at", "finished_at", "started_by"]
    readonly_fields = ["period", "status", "started_at", "finished_at", "started_by", "figures"]

    def has_add_permission(self, request):
        # Runs are started by the command, which owns the rules.
        return False


# E-invoices and e-bill choices (billing/einvoices.py owns the rules).
from .models import BillDelivery, EInvoice  # noqa: E402


@admin.register(EInvoice)
class EInvoiceAdmin(admin.ModelAdmin):
    list_display = ["number", "bill", "customer", "status", "issued_at", "paid_at", "sealed_at"]
    list_filter = ["status", "language"]
    search_fields = ["number", "bill__number", "customer__ref"]
    readonly_fields = [
        "number",
        "bill",
        "customer",
        "status",
        "issued_at",
        "paid_at",
        "language",
        "sealed_at",
        "sha256",
        "pdf",
        "size",
    ]

    def has_add_permission(self, request):
        # Issued from paid bills only; a sealed invoice is never edited.
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(BillDelivery)
class BillDeliveryAdmin(admin.ModelAdmin):
    list_display = ["customer", "channel", "address", "changed_at", "changed_by"]
    list_filter = ["channel"]
    search_fields = ["customer__ref", "address"]
    raw_id_fields = ["customer"]
    readonly_fields = ["changed_at", "changed_by"]
