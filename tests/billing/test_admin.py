"""The administrator edits tariff versions with their rates, seasons and windows."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from voltdesk.billing.models import BillingRun, TariffVersion, TouSeason


@pytest.fixture
def admin_client(client, utility):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


def test_admin_opens_versions_seasons_and_runs(admin_client):
    version = TariffVersion.objects.get(tariff__name="TAOZ LV")
    season = TouSeason.objects.filter(version=version).first()
    run = BillingRun.objects.create(period=version.valid_from)
    for obj in (version.tariff, version, season, run):
        opts = obj._meta
        for url in (
            reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
            reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]),
        ):
            assert admin_client.get(url).status_code == 200, url
    page = admin_client.get(reverse("admin:billing_tariffversion_change", args=[version.pk]))
    assert b"1.603600" in page.content  # the summer peak rate, inline


def test_runs_are_not_added_by_hand(admin_client):
    assert admin_client.get(reverse("admin:billing_billingrun_add")).status_code == 403
