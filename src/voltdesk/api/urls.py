"""The HTTP API: django-ninja at /api/v1/, each app's router mounted here."""

from ninja import NinjaAPI

api = NinjaAPI(title="VoltDesk API", version="1", urls_namespace="api")
