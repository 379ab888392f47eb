"""The product's URLs plus one bare view, for the intake benchmark only (never shipped)."""

from django.http import JsonResponse
from django.urls import include, path


def bare(request):
    return JsonResponse({"ok": True})


urlpatterns = [path("bench/bare/", bare), path("", include("voltdesk.urls"))]
