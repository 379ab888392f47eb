"""The administrator's view of analytics: classifiers (read only), temperatures, staffing."""

from django.contrib import admin

from .models import ClassifierModel, DailyTemperature, StaffingAssumptions


@admin.register(ClassifierModel)
class ClassifierModelAdmin(admin.ModelAdmin):
    # The fitted pipeline is bytes only train_classifier writes; the admin may switch it off.
    list_display = [
        "pk",
        "trained_at",
        "orders_trained",
        "orders_held_out",
        "macro_f1_type",
        "macro_f1_subtype",
        "is_active",
    ]
    list_filter = ["is_active"]
    exclude = ["pipeline"]
    readonly_fields = [
        "trained_at",
        "trained_by",
        "orders_trained",
        "orders_held_out",
        "macro_f1_type",
        "macro_f1_subtype",
        "report",
    ]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(DailyTemperature)
class DailyTemperatureAdmin(admin.ModelAdmin):
    list_display = ["day", "region", "celsius"]
    list_filter = ["region"]
    date_hierarchy = "day"


@admin.register(StaffingAssumptions)
class StaffingAssumptionsAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "handling_seconds",
        "service_level",
        "answer_within_seconds",
        "shrinkage",
        "calls_per_order",
        "orders_per_crew_day",
    ]
