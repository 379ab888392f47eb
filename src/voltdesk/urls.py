from django.contrib import admin
from django.urls import include, path

from voltdesk.api.urls import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("desk/", include("voltdesk.desk.urls")),
    path("portal/", include("voltdesk.portal.urls")),
    path("notifications/", include("voltdesk.notifications.urls")),
    path("sandbox-pay/", include("voltdesk.billing.urls_sandbox")),
    path("", include("voltdesk.core.urls")),
]
