"""Administration of customers, sites, contracts, suppliers, meters and customer log-ins.

Tables hold millions of rows: foreign keys are chosen by search (autocomplete),
not drop-downs, and change lists skip the full row count.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Contact, Contract, Customer, CustomerUser, Meter, Site, Supplier


class InForceFilter(admin.SimpleListFilter):
    """Contracts in force now (open) or ended."""

    title = _("in force")
    parameter_name = "in_force"

    def lookups(self, request, model_admin):
        return [("yes", _("In force")), ("no", _("Ended"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(end__isnull=True)
        if self.value() == "no":
            return queryset.filter(end__isnull=False)
        return queryset


class SiteInline(admin.TabularInline):
    model = Site
    fields = ["ref", "address", "area", "feeder", "voltage_level", "critical_load"]
    autocomplete_fields = ["area", "feeder"]
    extra = 0
    show_change_link = True


class ContactInline(admin.TabularInline):
    model = Contact
    fields = ["name", "role", "phone", "email", "language", "is_primary"]
    extra = 0


class ContractInline(admin.TabularInline):
    """A site's contract history; changes of holder go through the import or the desk."""

    model = Contract
    fields = ["customer", "supplier", "tariff", "start", "end"]
    autocomplete_fields = ["customer", "supplier", "tariff"]
    ordering = ["-start"]
    extra = 0
    show_change_link = True


class MeterInline(admin.TabularInline):
    model = Meter
    fields = ["serial", "kind", "installed_on", "removed_on"]
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["ref", "name", "kind", "id_number", "phone", "email", "language"]
    list_filter = ["kind", "language", "id_kind"]
    search_fields = ["=ref", "name", "=phone", "email", "=id_number"]
    readonly_fields = ["created_at"]
    fieldsets = [
        (None, {"fields": ["ref", "name", "kind", "created_at"]}),
        (_("Identifier"), {"fields": ["id_kind", "id_number"]}),
        (_("Contact details"), {"fields": ["phone", "email", "language", "address"]}),
    ]
    inlines = [SiteInline, ContactInline]
    show_full_result_count = False

    def get_search_results(self, request, queryset, search_term):
        # Staff type phone numbers as dialled; stored ones are E.164.
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        phone = _as_e164(search_term)
        if phone:
            queryset |= self.model.objects.filter(phone=phone)
        return queryset, may_have_duplicates


def _as_e164(term: str) -> str:
    from voltdesk.core.models import Utility

    from .identifiers import InvalidValue, normalise_phone

    term = term.strip()
    utility = Utility.objects.order_by("pk").first()
    if not term or utility is None or not any(ch.isdigit() for ch in term):
        return ""
    try:
        return normalise_phone(term, utility.country)
    except InvalidValue:
        return ""


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = [
        "ref",
        "customer",
        "address",
        "area",
        "feeder",
        "voltage_level",
        "critical_load",
    ]
    list_filter = ["voltage_level", "critical_load", "area__kind", "area__region"]
    list_select_related = ["customer", "area", "feeder"]
    search_fields = ["=ref", "=customer__ref", "customer__name", "address"]
    autocomplete_fields = ["customer", "area", "feeder"]
    inlines = [ContractInline, MeterInline]
    show_full_result_count = False


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    list_display = ["site", "customer", "supplier", "tariff", "start", "end"]
    list_filter = [InForceFilter, "supplier", "tariff"]
    list_select_related = ["site", "customer", "supplier", "tariff"]
    search_fields = ["=site__ref", "=customer__ref", "customer__name"]
    autocomplete_fields = ["customer", "site", "supplier", "tariff"]
    date_hierarchy = "start"
    show_full_result_count = False


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["name", "customer", "role", "phone", "email", "is_primary"]
    list_filter = ["is_primary", "language"]
    list_select_related = ["customer"]
    search_fields = ["name", "=phone", "email", "=customer__ref", "customer__name"]
    autocomplete_fields = ["customer"]
    show_full_result_count = False


@admin.register(Supplier)
class SupplierAdmin(admin.ModelAdmin):
    list_display = ["name", "is_utility"]
    list_filter = ["is_utility"]
    search_fields = ["name"]


@admin.register(Meter)
class MeterAdmin(admin.ModelAdmin):
    list_display = ["serial", "site", "kind", "installed_on", "removed_on"]
    list_filter = ["kind"]
    list_select_related = ["site"]
    search_fields = ["=serial", "=site__ref"]
    autocomplete_fields = ["site"]
    show_full_result_count = False


@admin.register(CustomerUser)
class CustomerUserAdmin(admin.ModelAdmin):
    list_display = ["user", "customer", "company_role"]
    list_filter = ["company_role"]
    list_select_related = ["user", "customer"]
    search_fields = ["user__username", "user__email", "=customer__ref", "customer__name"]
    autocomplete_fields = ["user", "customer"]
