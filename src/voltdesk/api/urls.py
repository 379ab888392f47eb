"""The HTTP API: django-ninja at /api/v1/, each app's router mounted here.

Docs at /api/v1/docs (Swagger UI served from our own static files, no CDN), the
schema at /api/v1/openapi.json. Every route requires authentication
(``voltdesk.api.auth``) and takes its rows from ``core.access``.
"""

import json

from django.shortcuts import render
from ninja import NinjaAPI
from ninja.openapi.docs import Swagger

from voltdesk.billing.api import router as billing_router
from voltdesk.customers.api import router as customers_router
from voltdesk.keyaccounts.api import router as keyaccounts_router
from voltdesk.metering.api import router as metering_router
from voltdesk.prepaid.api import router as prepaid_router
from voltdesk.workorders.api import router as workorders_router

from .auth import api_auth
from .errors import install_error_handlers


class LocalSwagger(Swagger):
    """Swagger UI from our static files: ninja falls back to a CDN unless it is an installed app."""

    template = "api/swagger.html"

    def render_page(self, request, api, **kwargs):
        self.settings["url"] = self.get_openapi_url(api, kwargs)
        context = {
            "swagger_settings": json.dumps(self.settings, indent=1),
            "api": api,
            # The docs page calls the API with the browser's session: send its CSRF token.
            "add_csrf": True,
        }
        return render(request, self.template, context)


api = NinjaAPI(
    title="VoltDesk API",
    version="1",
    description=(
        "Customers, sites, readings and consumption of the utility, as the caller may see "
        "them, and the fault line's call routing (`POST /calls/route`). Authenticate with "
        "an API key (`Authorization: Bearer <key>` or `X-API-Key`) or a logged-in session. "
        "kWh are exact decimal strings."
    ),
    urls_namespace="api",
    auth=api_auth,
    docs=LocalSwagger(),
)
install_error_handlers(api)

api.add_router("/", customers_router)
api.add_router("/", metering_router)
api.add_router("/", keyaccounts_router)
api.add_router("/", workorders_router)
api.add_router("/", billing_router)
api.add_router("/", prepaid_router)
