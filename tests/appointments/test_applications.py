"""Online applications become business work orders with the cn commitments and the documents."""

from datetime import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from voltdesk.appointments.applications import (
    ApplicationError,
    commitment_of,
    submit_application,
)
from voltdesk.appointments.models import Application
from voltdesk.workorders import sla
from voltdesk.workorders.models import Attachment, WorkOrder

from .conftest import SHANGHAI, at

PDF = b"%PDF-1.4\n% a scanned ID\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def pdf(name="id.pdf", body=PDF, content_type="application/pdf"):
    return SimpleUploadedFile(name, body, content_type=content_type)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def apply(customer, **kw):
    kw.setdefault("files", [pdf()])
    return submit_application(customer.user, customer=customer, **kw)


def test_a_household_new_connection_is_a_business_order_of_5_working_days(cn, household):
    home = household()
    application = apply(
        home,
        kind="new_connection",
        supply="residential",
        address="3 New Road",
        files=[pdf(), SimpleUploadedFile("deed.png", PNG, content_type="image/png")],
    )
    order = application.work_order
    assert (order.channel, order.order_type, order.subtype) == ("web", "business", "new_connection")
    assert order.customer == home and order.site is None
    assert "3 New Road" in order.description
    assert sorted(Attachment.objects.filter(work_order=order).values_list("name", flat=True)) == [
        "deed.png",
        "id.pdf",
    ]
    deadline = commitment_of(application)
    assert deadline.policy.working_days == 5
    assert deadline.due_at == sla.due_time(deadline.policy, order.created_at)
    # By hand, sent on Monday 2026-09-28: 29th (1), 30th (2), National Day week off,
    # 8 Oct (3), 9 Oct (4), Saturday 10 Oct worked (5): due at the end of 10 Oct.
    sent = at("2026-09-28", 10)
    assert sla.due_time(deadline.policy, sent) == datetime(2026, 10, 11, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    "supply, subtype, days",
    [
        ("low_voltage", "new_connection", 6),
        ("high_voltage", "new_connection", 22),
        ("high_voltage_dual", "new_connection_dual", 32),
    ],
)
def test_a_business_new_connection_is_timed_by_the_supply_asked_for(
    cn, household, supply, subtype, days
):
    shop = household(kind="business")
    application = apply(shop, kind="new_connection", supply=supply, address="9 Factory Lane")
    assert application.work_order.subtype == subtype
    deadline = commitment_of(application)
    assert deadline.policy.working_days == days
    assert deadline.due_at == sla.due_time(deadline.policy, application.work_order.created_at)


def test_the_6_day_commitment_by_hand(cn, household):
    shop = household(kind="business")
    policy = commitment_of(apply(shop, kind="new_connection", supply="low_voltage", address="x"))
    # From Monday 2026-09-28: 10 Oct is the 5th working day, Monday 12 Oct the 6th.
    assert sla.due_time(policy.policy, at("2026-09-28", 10)) == datetime(
        2026, 10, 13, tzinfo=SHANGHAI
    )


def test_a_change_of_use_is_on_a_site(cn, household):
    shop = household(kind="business")
    application = apply(
        shop, kind="change_of_use", change="capacity_increase", site=shop.site, requested_kva="250"
    )
    order = application.work_order
    assert order.subtype == "change_of_use" and order.site == shop.site
    assert "250" in order.description
    assert commitment_of(application).policy.working_days == 10  # any business request
    with pytest.raises(ApplicationError, match="Choose the site") as exc:
        apply(shop, kind="change_of_use", change="category")
    assert exc.value.field == "site"


def test_another_customers_site_is_refused(cn, household):
    mine, theirs = household(kind="business"), household(kind="business")
    with pytest.raises(ApplicationError, match="your own sites"):
        apply(mine, kind="change_of_use", change="category", site=theirs.site)


@pytest.mark.parametrize(
    "fields, message, field",
    [
        (
            {"kind": "new_connection", "supply": "high_voltage", "address": "x"},
            "household",
            "supply",
        ),
        ({"kind": "new_connection", "supply": "residential"}, "address", "address"),
        ({"kind": "new_connection", "supply": ""}, "supply you need", "supply"),
        ({"kind": "upgrade"}, "new connection or a change of use", "kind"),
        (
            {
                "kind": "new_connection",
                "supply": "residential",
                "address": "x",
                "requested_kva": "-5",
            },
            "between 0 and 100,000",
            "requested_kva",
        ),
    ],
)
def test_bad_fields_are_named(cn, household, fields, message, field):
    with pytest.raises(ApplicationError, match=message) as exc:
        apply(household(), **fields)
    assert exc.value.field == field
    assert not WorkOrder.objects.exists()


@pytest.mark.parametrize(
    "files, message",
    [
        ([], "at least one document"),
        ([pdf(f"p{i}.pdf") for i in range(6)], "at most 5 files"),
        ([pdf("photo.gif", b"GIF89a....", "image/gif")], "photo.gif is not a PDF, JPEG or PNG"),
        ([pdf("fake.pdf", PNG, "application/pdf")], "fake.pdf is not a PDF, JPEG or PNG"),
        ([pdf("empty.pdf", b"")], "empty.pdf is empty"),
        ([pdf("huge.pdf", PDF + b"0" * (10 * 1024 * 1024))], "huge.pdf is larger than 10 MB"),
    ],
)
def test_documents_are_refused_with_their_name_and_nothing_is_kept(cn, household, files, message):
    with pytest.raises(ApplicationError, match=message) as exc:
        apply(household(), kind="new_connection", supply="residential", address="x", files=files)
    assert exc.value.field == "documents"
    assert not WorkOrder.objects.exists() and not Attachment.objects.exists()
    assert not Application.objects.exists()


def test_too_much_together_is_refused(cn, household):
    nine_mb = PDF + b"0" * (9 * 1024 * 1024)
    files = [pdf(f"p{i}.pdf", nine_mb) for i in range(3)]  # 27 MB > 25 MB
    with pytest.raises(ApplicationError, match="larger than 25 MB together"):
        apply(household(), kind="new_connection", supply="residential", address="x", files=files)
