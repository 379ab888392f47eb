"""voltdesk import_sites: service points, their holders, suppliers and tariffs over time."""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from voltdesk.billing.models import Tariff
from voltdesk.core.models import Area, Feeder, Region
from voltdesk.customers.models import Contract, Customer, Site, Supplier
from voltdesk.customers.services import import_sites

HEADER = "site_ref,customer_ref,address,area,feeder,supplier,tariff"


@pytest.fixture
def network(utility):
    north = Region.objects.create(name="North")
    haifa = Area.objects.create(name="Haifa", region=north, kind="urban")
    galil = Area.objects.create(name="Galil", region=north, kind="rural")
    Feeder.objects.create(name="HF-01", area=haifa)
    Feeder.objects.create(name="GL-07", area=galil)
    Tariff.objects.create(name="General")
    Tariff.objects.create(name="TOU", kind="tou")
    for ref, name in [("C1", "Acme"), ("C2", "Beta"), ("C3", "מאפיית כהן")]:
        Customer.objects.create(ref=ref, name=name, kind="business")
    return utility


def run(path, capsys):
    call_command("import_sites", str(path))
    return capsys.readouterr().out


def refused(path) -> str:
    with pytest.raises(CommandError) as exc:
        call_command("import_sites", str(path))
    return str(exc.value)


def open_contract(site_ref):
    return Contract.objects.get(site__ref=site_ref, end__isnull=True)


def test_each_site_gets_an_open_contract(network, write_csv, capsys):
    path = write_csv(
        "sites.csv",
        HEADER,
        "S1,C1,1 Port Rd,Haifa,HF-01,,General",
        "S2,C1,Kibbutz Dan,,GL-07,Green Power,TOU",
        'S3,C3,"רח׳ הנביאים 5, חיפה",Haifa,,,',
    )

    out = run(path, capsys)

    assert "3 created, 0 updated, 0 unchanged" in out
    s1 = Site.objects.get(ref="S1")
    assert (s1.customer.ref, s1.address, s1.area.name, s1.feeder.name) == (
        "C1",
        "1 Port Rd",
        "Haifa",
        "HF-01",
    )
    c1 = open_contract("S1")
    assert (c1.customer.ref, c1.supplier.is_utility, c1.tariff.name) == ("C1", True, "General")
    assert c1.start is None  # held since before our records

    s2 = Site.objects.get(ref="S2")
    assert s2.area.name == "Galil"  # a feeder alone implies its area
    c2 = open_contract("S2")
    assert (c2.supplier.name, c2.supplier.is_utility, c2.tariff.name) == (
        "Green Power",
        False,
        "TOU",
    )

    s3 = Site.objects.get(ref="S3")
    assert s3.address == "רח׳ הנביאים 5, חיפה"
    assert s3.feeder is None
    assert open_contract("S3").tariff is None


def test_importing_the_same_file_again_changes_nothing(network, write_csv, capsys):
    path = write_csv(
        "sites.csv",
        HEADER,
        "S1,C1,1 Port Rd,Haifa,HF-01,,General",
        "S2,C2,Kibbutz Dan,Galil,GL-07,Green Power,TOU",
    )
    run(path, capsys)
    sites = list(Site.objects.order_by("ref").values())
    contracts = list(Contract.objects.order_by("pk").values())

    out = run(path, capsys)

    assert "0 created, 0 updated, 2 unchanged" in out
    assert list(Site.objects.order_by("ref").values()) == sites
    assert list(Contract.objects.order_by("pk").values()) == contracts
    assert Supplier.objects.filter(name="Green Power").count() == 1


def test_a_change_of_holder_closes_the_contract_and_opens_a_new_one(network, write_csv, capsys):
    run(write_csv("v1.csv", HEADER, "S1,C1,1 Port Rd,Haifa,HF-01,,General"), capsys)
    moment = timezone.now() + timedelta(minutes=5)

    result = import_sites(
        write_csv("v2.csv", HEADER, "S1,C2,1 Port Rd,Haifa,HF-01,,General"), at=moment
    )

    assert (result.created, result.updated, result.unchanged) == (0, 1, 0)
    site = Site.objects.get(ref="S1")
    assert site.customer.ref == "C2"
    history = list(site.contracts.order_by("pk"))
    assert [(c.customer.ref, c.start, c.end) for c in history] == [
        ("C1", None, moment),
        ("C2", moment, None),
    ]
    assert history[1].tariff.name == "General"
    assert history[1].supplier.is_utility


def test_the_command_dates_a_change_of_holder_at_the_moment_of_import(network, write_csv, capsys):
    run(write_csv("v1.csv", HEADER, "S1,C1,,,,,"), capsys)
    before = timezone.now()

    out = run(write_csv("v2.csv", HEADER, "S1,C3,,,,,"), capsys)

    assert "0 created, 1 updated, 0 unchanged" in out
    old, new = Contract.objects.filter(site__ref="S1").order_by("pk")
    assert old.end == new.start
    assert before <= new.start <= timezone.now()
    assert (old.customer.ref, new.customer.ref) == ("C1", "C3")


@pytest.mark.parametrize(
    ("second_line", "changed"),
    [
        ("S1,C1,1 Port Rd,Haifa,HF-01,Green Power,General", "supplier"),
        ("S1,C1,1 Port Rd,Haifa,HF-01,,TOU", "tariff"),
    ],
)
def test_a_change_of_supplier_or_tariff_starts_a_new_contract(
    network, write_csv, capsys, second_line, changed
):
    run(write_csv("v1.csv", HEADER, "S1,C1,1 Port Rd,Haifa,HF-01,,General"), capsys)

    run(write_csv("v2.csv", HEADER, second_line), capsys)

    old, new = Contract.objects.filter(site__ref="S1").order_by("pk")
    assert old.end is not None and old.end == new.start
    assert getattr(old, changed) != getattr(new, changed)
    assert new.customer.ref == "C1"
    # The same second file again: the history does not grow.
    run(write_csv("v2-again.csv", HEADER, second_line), capsys)
    assert Contract.objects.filter(site__ref="S1").count() == 2


def test_a_new_address_or_feeder_updates_the_site_not_its_contract(network, write_csv, capsys):
    run(write_csv("v1.csv", HEADER, "S1,C1,1 Port Rd,Haifa,HF-01,,General"), capsys)

    out = run(write_csv("v2.csv", HEADER, "S1,C1,2 Port Rd,,GL-07,,General"), capsys)

    assert "1 updated" in out
    site = Site.objects.get(ref="S1")
    assert (site.address, site.area.name, site.feeder.name) == ("2 Port Rd", "Galil", "GL-07")
    assert site.contracts.count() == 1


def test_a_site_whose_contract_was_ended_gets_a_new_one(network, write_csv, capsys):
    run(write_csv("v1.csv", HEADER, "S1,C1,,,,,"), capsys)
    Contract.objects.filter(site__ref="S1").update(end=timezone.now() - timedelta(days=1))

    out = run(write_csv("v2.csv", HEADER, "S1,C1,,,,,"), capsys)

    assert "1 updated" in out
    assert open_contract("S1").customer.ref == "C1"


def test_many_sites_in_several_batches(network, write_csv, capsys, monkeypatch):
    from voltdesk.customers import services

    monkeypatch.setattr(services, "BATCH_SIZE", 7)
    lines = [f"S{i:03d},C{1 + i % 3},Street {i},,,," for i in range(40)]
    run(write_csv("many.csv", HEADER, *lines), capsys)
    lines[5] = "S005,C1,Street 5,,,,TOU"

    out = run(write_csv("many2.csv", HEADER, *lines), capsys)

    assert "0 created, 1 updated, 39 unchanged" in out
    assert Site.objects.count() == 40
    assert Contract.objects.filter(end__isnull=True).count() == 40
    assert Contract.objects.count() == 41


BAD_FILES = {
    "missing column": (
        ["site_ref,customer_ref,address,area,feeder,supplier", "S9,C1,,,,"],
        1,
        "missing column(s) tariff",
    ),
    "unknown column": ([HEADER + ",meter", "S9,C1,,,,,,M1"], 1, "unknown column(s) meter"),
    "unknown customer": ([HEADER, "S9,C404,,,,,"], 3, "unknown customer C404"),
    "unknown area": ([HEADER, "S9,C1,,Atlantis,,,"], 3, "unknown area Atlantis"),
    "unknown feeder": ([HEADER, "S9,C1,,,XX-99,,"], 3, "unknown feeder XX-99"),
    "feeder of another area": (
        [HEADER, "S9,C1,,Haifa,GL-07,,"],
        3,
        "feeder GL-07 belongs to area Galil, not Haifa",
    ),
    "unknown tariff": ([HEADER, "S9,C1,,,,,Night Saver"], 3, "unknown tariff Night Saver"),
    "duplicate ref": ([HEADER, "S1,C2,,,,,"], 3, "site_ref S1 appears again (first on line 2)"),
    "empty site ref": ([HEADER, ",C1,,,,,"], 3, "site_ref is empty"),
    "empty customer ref": ([HEADER, "S9,,,,,,"], 3, "customer_ref is empty"),
    "wrong field count": ([HEADER, "S9,C1"], 3, "expected 7 fields, found 2"),
}


@pytest.mark.parametrize("case", BAD_FILES, ids=list(BAD_FILES))
def test_a_bad_file_is_refused_whole_naming_file_line_and_reason(network, write_csv, case):
    lines, line_no, reason = BAD_FILES[case]
    if lines[0] == HEADER:
        # A good line first, naming a new supplier: neither may be written.
        lines = [lines[0], "S1,C1,1 Port Rd,Haifa,HF-01,New Supplier,General", *lines[1:]]
    path = write_csv("bad-sites.csv", *lines)

    message = refused(path)

    assert f"bad-sites.csv, line {line_no}: " in message
    assert reason in message
    assert not Site.objects.exists()
    assert not Contract.objects.exists()
    assert not Supplier.objects.filter(name="New Supplier").exists()


def test_a_refused_file_leaves_contracts_as_they_were(network, write_csv, capsys):
    run(write_csv("v1.csv", HEADER, "S1,C1,,,,,"), capsys)

    refused(write_csv("v2.csv", HEADER, "S1,C2,,,,,", "S2,C404,,,,,"))

    contract = Contract.objects.get()
    assert (contract.customer.ref, contract.end) == ("C1", None)
    assert Site.objects.get(ref="S1").customer.ref == "C1"
