from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import services
from .models import Message


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    """The outbox is a record of what was sent: read it, requeue failures, never edit it."""

    list_display = [
        "created_at",
        "channel",
        "template",
        "address",
        "language",
        "status",
        "attempts",
        "sent_at",
        "driver",
    ]
    list_filter = ["status", "channel", "template", "language", "driver"]
    search_fields = ["address", "dedupe_key", "provider_message_id", "customer__ref"]
    date_hierarchy = "created_at"
    list_select_related = ["customer"]
    actions = ["requeue"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Try failed messages again"), permissions=["view"])
    def requeue(self, request, queryset):
        count = services.requeue_messages(
            list(queryset.values_list("pk", flat=True)), actor=request.user
        )
        self.message_user(
            request,
            ngettext("%(count)d message queued again.", "%(count)d messages queued again.", count)
            % {"count": count},
            messages.SUCCESS,
        )
