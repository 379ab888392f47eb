"""The sandbox gateway's hosted payment page (stands in for a provider's own site)."""

from django.urls import path

from . import views_sandbox

app_name = "sandbox"
urlpatterns = [
    path("<str:provider_ref>/", views_sandbox.pay, name="pay"),
]
