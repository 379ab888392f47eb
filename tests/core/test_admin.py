"""The administrator's Django admin: every registered model of the domain core opens."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.urls import reverse

from voltdesk.billing.models import Tariff
from voltdesk.core.models import Area, AuditEntry, Feeder, Region, Utility
from voltdesk.customers.models import (
    Contact,
    Contract,
    Customer,
    CustomerUser,
    Meter,
    Site,
    Supplier,
)

APPS = {"core", "customers"}  # billing's admin has its own test (tests/billing/test_admin.py)


@pytest.fixture
def objects(utility, make_customer, make_user):
    """One row of every model the administrator manages."""
    region = Region.objects.create(name="North")
    area = Area.objects.create(name="Haifa", region=region, kind="urban")
    feeder = Feeder.objects.create(name="HF-01", area=area)
    customer = make_customer(name="חברת נמל חיפה", phone="+97231234567")
    site = customer.sites.get()
    site.area, site.feeder = area, feeder
    site.save()
    tariff = Tariff.objects.create(name="General")
    contract = site.contracts.get()
    contract.tariff = tariff
    contract.save()
    customer_user = make_user("customer", customer=customer).customer_link
    return {
        Utility: utility,
        Region: region,
        Area: area,
        Feeder: feeder,
        AuditEntry: AuditEntry.objects.first(),  # init wrote one
        Customer: customer,
        Site: site,
        Contract: contract,
        Contact: Contact.objects.create(customer=customer, name="Dana", is_primary=True),
        Supplier: Supplier.objects.get(is_utility=True),
        Meter: Meter.objects.create(site=site, serial="M-1"),
        CustomerUser: customer_user,
        Tariff: tariff,
    }


@pytest.fixture
def admin_client(client, db):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


def test_every_model_of_the_core_is_registered(objects):
    registered = {m for m in admin.site._registry if m._meta.app_label in APPS}
    assert registered == {m for m in objects if m._meta.app_label in APPS}
    assert Tariff in admin.site._registry


def test_the_administrator_opens_every_changelist_and_change_page(admin_client, objects):
    for model, obj in objects.items():
        opts = model._meta
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])

        assert admin_client.get(changelist).status_code == 200, changelist
        response = admin_client.get(change)
        assert response.status_code == 200, change
        assert str(obj) in response.content.decode()


def test_customers_are_found_by_phone_as_dialled(admin_client, objects):
    url = reverse("admin:customers_customer_changelist")

    response = admin_client.get(url, {"q": "03-1234567"})

    assert "חברת נמל חיפה" in response.content.decode()
    assert admin_client.get(url, {"q": "03-7654321"}).content.decode().count("חברת נמל חיפה") == 0


def test_the_utility_is_edited_not_added_or_deleted(admin_client, objects):
    assert admin_client.get(reverse("admin:core_utility_add")).status_code == 403
    utility = objects[Utility]
    response = admin_client.post(
        reverse("admin:core_utility_change", args=[utility.pk]),
        {
            "name": utility.name,
            "country": "IL",
            "currency": "ILS",
            "time_zone": "Asia/Jerusalem",
            "default_language": "he",
            "holiday_country": "IL",
            "fault_line": "103",
            "service_line": "*103",
            "vip_single_site_kwh": "900000",
            "vip_multi_site_kwh": "5000000",
            "vip_window_months": "12",
            "vat_rate": "0.18",
            "planned_outage_notice_days": "7",
            "temporary_outage_notice_hours": "24",
            "demand_call_lead_hours": "24",
            "demand_hot_day_celsius": "35",
            "demand_cold_day_celsius": "3",
            "demand_reserve_margin_pct": "5",
            "demand_forecast_days": "3",
        },
    )
    assert response.status_code == 302
    utility.refresh_from_db()
    assert utility.vip_single_site_kwh == 900000


def test_the_audit_trail_cannot_be_changed(admin_client, objects):
    entry = objects[AuditEntry]
    url = reverse("admin:core_auditentry_change", args=[entry.pk])

    admin_client.post(url, {"action": "forged"})

    entry.refresh_from_db()
    assert entry.action != "forged"
    assert (
        admin_client.get(reverse("admin:core_auditentry_delete", args=[entry.pk])).status_code
        == 403
    )
