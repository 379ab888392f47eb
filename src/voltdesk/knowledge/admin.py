"""The administrator's view of the knowledge base.

Versions and texts are the record of what agents were told: read-only here.
An article's classification (topic, work-order types, profile, region, owner)
may be repaired by hand; its life cycle (status, published version, validity)
changes only through the desk pages and ``knowledge.services``, which check the
rules and write the audit trail. Articles are created on the desk (so version 1
exists) and never deleted: they are retired.
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .models import Article, ArticleText, ArticleVersion


class VersionInline(admin.TabularInline):
    model = ArticleVersion
    extra = 0
    can_delete = False
    show_change_link = True
    fields = [
        "number",
        "status",
        "change_note",
        "created_by",
        "created_at",
        "reviewed_by",
        "reviewed_at",
        "published_at",
        "correction_task_id",
    ]
    readonly_fields = fields
    ordering = ["-number"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class TextInline(admin.StackedInline):
    model = ArticleText
    extra = 0
    can_delete = False
    fields = ["language", "question", "answer", "keywords", "notice"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = [
        "key",
        "topic",
        "kind",
        "status",
        "profile",
        "published_version",
        "valid_from",
        "valid_to",
        "usage_count",
        "updated_at",
    ]
    list_filter = ["status", "kind", "topic", "profile"]
    search_fields = ["key", "versions__texts__question"]
    list_select_related = ["published_version__article"]
    readonly_fields = [
        "status",
        "published_version",
        "valid_from",
        "valid_to",
        "usage_count",
        "created_at",
        "updated_at",
        "desk_page",
    ]
    fields = [
        "key",
        "desk_page",
        "topic",
        "kind",
        "business_kind",
        "order_types",
        "subtypes",
        "profile",
        "region",
        "owner",
        *readonly_fields[:-1],
    ]
    inlines = [VersionInline]

    def get_readonly_fields(self, request, obj=None):
        # The key names the article in files and links: fixed once the article exists.
        return [*self.readonly_fields, "key", "kind"] if obj else self.readonly_fields

    @admin.display(description=_("desk page"))
    def desk_page(self, obj):
        if obj.pk is None:
            return "–"
        url = reverse("desk:knowledge:article", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, url)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ArticleVersion)
class ArticleVersionAdmin(admin.ModelAdmin):
    list_display = ["article", "number", "status", "created_by", "created_at", "reviewed_by"]
    list_filter = ["status"]
    search_fields = ["article__key", "change_note"]
    list_select_related = ["article", "created_by", "reviewed_by"]
    inlines = [TextInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
