"""Importing Green Button (ESPI) files: the public samples and hostile or odd files."""

import re
from decimal import Decimal

import pytest

from voltdesk.metering.models import Reading

from .conftest import GREENBUTTON

AMEREN = GREENBUTTON / "Ameren_Res_Electric_15_Minutes_12-04-2023_12-04-2023.xml"
GAS = GREENBUTTON / "opower_gas_monthly_billing_2021-05-26_to_2024-04-25.xml"


def expected_kwh(path) -> tuple[int, Decimal]:
    """Independently of the importer: every IntervalReading value, in Wh (uom 72, ×10^0)."""
    text = path.read_text(encoding="utf-8")
    assert set(re.findall(r"<(?:espi:)?uom>(\d+)<", text)) == {"72"}
    assert set(re.findall(r"<(?:espi:)?powerOfTenMultiplier>(-?\d+)<", text)) == {"0"}
    readings = re.findall(r"<(?:espi:)?IntervalReading>.*?</(?:espi:)?IntervalReading>", text, re.S)
    values = [int(re.search(r"<(?:espi:)?value>(-?\d+)<", r).group(1)) for r in readings]
    return len(values), Decimal(sum(values)) / 1000


@pytest.mark.parametrize(
    "name",
    [
        "Coastal_Multi_Family_Jan_1_2011_to_Jan_1_2012_RetailCustomer_5.xml",
        "TestGBDataHourlyNineDaysBinnedDaily.xml",
        "15minLP_15Days.xml",
        "Ameren_Res_Electric_15_Minutes_12-04-2023_12-04-2023.xml",
    ],
)
def test_sample_files_import_with_the_right_totals(name, make_customer, run):
    site = make_customer().sites.get()
    count, total = expected_kwh(GREENBUTTON / name)

    ok, out = run("import_readings", str(GREENBUTTON / name), site=[site.ref])

    assert ok, out
    assert f"{count} readings imported" in out
    stored = Reading.objects.filter(site=site)
    assert stored.count() == count
    # Summed here, not in SQL: SQLite adds decimals as floats.
    assert sum(stored.values_list("kwh", flat=True)) == total
    assert set(stored.values_list("source", flat=True)) == {"greenbutton"}


def test_first_ameren_reading_is_the_right_moment_and_amount(make_customer, run):
    site = make_customer().sites.get()
    run("import_readings", str(AMEREN), site=[site.ref])

    first = Reading.objects.filter(site=site).order_by("start").first()
    text = AMEREN.read_text()
    start = int(
        re.search(
            r"<espi:timePeriod>\s*<espi:duration>900</espi:duration>\s*"
            r"<espi:start>(\d+)</espi:start>",
            text,
        ).group(1)
    )
    assert first.start.timestamp() == start
    assert (first.end - first.start).total_seconds() == 900


def test_ameren_usage_points_are_named_when_no_site_is_given(make_customer, run):
    make_customer()

    ok, message = run("import_readings", str(AMEREN))

    assert not ok
    assert "2729703253975607745" in message  # the one usage point with readings
    assert "--site" in message
    assert Reading.objects.count() == 0


def test_usage_point_mapping_by_id(make_customer, run):
    site = make_customer().sites.get()

    ok, out = run("import_readings", str(AMEREN), site=[f"2729703253975607745={site.ref}"])

    assert ok, out
    assert Reading.objects.filter(site=site).count() == 96


def test_mapping_an_unknown_usage_point_is_refused(make_customer, run):
    site = make_customer().sites.get()

    ok, message = run("import_readings", str(AMEREN), site=[f"8973286530475467994={site.ref}"])

    assert not ok
    assert "8973286530475467994" in message and "no electricity readings" in message


def test_unknown_site_for_a_green_button_file(make_customer, run):
    ok, message = run("import_readings", str(AMEREN), site=["NO-SUCH-SITE"])

    assert not ok
    assert "unknown site NO-SUCH-SITE" in message and "IntervalReading" in message


def test_the_gas_file_is_refused_clearly(make_customer, run):
    site = make_customer().sites.get()

    ok, message = run("import_readings", str(GAS), site=[site.ref])

    assert not ok
    assert "no electricity" in message and "gas" in message and "therm" in message
    assert Reading.objects.count() == 0


FEED = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
{entries}
</feed>
"""


def usage_point(n, kind=0, title="Meter"):
    return f"""<entry><link rel="self" href="UsagePoint/{n}"/>
<link rel="related" href="UsagePoint/{n}/MeterReading"/><title>{title} {n}</title>
<content><UsagePoint xmlns="http://naesb.org/espi"><ServiceCategory><kind>{kind}</kind>
</ServiceCategory></UsagePoint></content></entry>"""


def meter_reading(n, rt):
    return f"""<entry><link rel="self" href="UsagePoint/{n}/MeterReading/1"/>
<link rel="up" href="UsagePoint/{n}/MeterReading"/>
<link rel="related" href="UsagePoint/{n}/MeterReading/1/IntervalBlock"/>
<link rel="related" href="ReadingType/{rt}"/>
<content><MeterReading xmlns="http://naesb.org/espi"/></content></entry>"""


def reading_type(rt, uom=72, power=0, flow=1):
    return f"""<entry><link rel="self" href="ReadingType/{rt}"/>
<content><ReadingType xmlns="http://naesb.org/espi"><flowDirection>{flow}</flowDirection>
<kind>12</kind><powerOfTenMultiplier>{power}</powerOfTenMultiplier><uom>{uom}</uom>
</ReadingType></content></entry>"""


def block(n, *values, start=1704060000, duration=900):
    readings = "".join(
        f"<IntervalReading><timePeriod><duration>{duration}</duration>"
        f"<start>{start + i * duration}</start></timePeriod><value>{v}</value></IntervalReading>"
        for i, v in enumerate(values)
    )
    return f"""<entry><link rel="self" href="UsagePoint/{n}/MeterReading/1/IntervalBlock/1"/>
<link rel="up" href="UsagePoint/{n}/MeterReading/1/IntervalBlock"/>
<content><IntervalBlock xmlns="http://naesb.org/espi">
<interval><duration>86400</duration><start>{start}</start></interval>{readings}
</IntervalBlock></content></entry>"""


def feed(*entries):
    return FEED.format(entries="\n".join(entries))


def test_power_of_ten_multiplier_is_applied(make_customer, write_file, run):
    site = make_customer().sites.get()
    path = write_file(
        "kwh.xml",
        feed(usage_point(1), meter_reading(1, "a"), reading_type("a", power=3), block(1, 2, 5)),
    )

    ok, out = run("import_readings", str(path), site=[site.ref])

    assert ok, out
    # 2 × 10^3 Wh + 5 × 10^3 Wh = 7 kWh
    assert sum(Reading.objects.values_list("kwh", flat=True)) == Decimal("7")


def test_reverse_flow_is_not_consumption_and_the_output_says_so(make_customer, write_file, run):
    site = make_customer().sites.get()
    path = write_file(
        "solar.xml",
        feed(
            usage_point(1),
            meter_reading(1, "in"),
            reading_type("in"),
            block(1, 1000, 2000),
            # The same usage point's export register: a second MeterReading.
            meter_reading(1, "out").replace("MeterReading/1", "MeterReading/2"),
            reading_type("out", flow=19),
            block(1, 500).replace("MeterReading/1", "MeterReading/2"),
        ),
    )

    ok, out = run("import_readings", str(path), site=[site.ref])

    assert ok, out
    assert "fed into the grid" in out
    assert sum(Reading.objects.values_list("kwh", flat=True)) == Decimal("3")


def test_temperatures_in_an_electricity_feed_are_left_out(make_customer, write_file, run):
    site = make_customer().sites.get()
    path = write_file(
        "weather.xml",
        feed(
            usage_point(1),
            meter_reading(1, "e"),
            reading_type("e"),
            block(1, 250),
            usage_point(2),
            meter_reading(2, "t"),
            reading_type("t", uom=23),
            block(2, 31),
        ),
    )

    ok, out = run("import_readings", str(path), site=[site.ref])

    assert ok, out
    assert "°C" in out and "left out" in out
    assert Reading.objects.get().kwh == Decimal("0.25")


def test_unknown_units_refuse_the_file(make_customer, write_file, run):
    site = make_customer().sites.get()
    path = write_file(
        "odd.xml",
        feed(usage_point(1), meter_reading(1, "x"), reading_type("x", uom=9999), block(1, 1)),
    )

    ok, message = run("import_readings", str(path), site=[site.ref])

    assert not ok
    assert "odd.xml" in message and "ReadingType" in message and "not known" in message


def test_a_block_without_reading_type_refuses_the_file(make_customer, write_file, run):
    site = make_customer().sites.get()
    path = write_file("orphan.xml", feed(usage_point(1), meter_reading(1, "missing"), block(1, 1)))

    ok, message = run("import_readings", str(path), site=[site.ref])

    assert not ok
    assert "units cannot be known" in message


def test_two_electric_usage_points_need_a_mapping(make_customer, write_file, run):
    a, b = make_customer(sites=2).sites.all()
    path = write_file(
        "two.xml",
        feed(
            usage_point(1, title="Front"),
            meter_reading(1, "e"),
            reading_type("e"),
            block(1, 100),
            usage_point(2, title="Back"),
            meter_reading(2, "e"),
            block(2, 300),
        ),
    )

    ok, message = run("import_readings", str(path), site=[a.ref])
    assert not ok
    assert "1 (Front 1)" in message and "2 (Back 2)" in message

    ok, out = run("import_readings", str(path), site=[f"1={a.ref}", f"2={b.ref}"])
    assert ok, out
    assert Reading.objects.get(site=a).kwh == Decimal("0.1")
    assert Reading.objects.get(site=b).kwh == Decimal("0.3")


def test_entity_expansion_is_refused(make_customer, write_file, run):
    site = make_customer().sites.get()
    bomb = (
        '<?xml version="1.0"?>\n<!DOCTYPE feed [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>&b;</title></feed>'
    )

    ok, message = run("import_readings", str(write_file("bomb.xml", bomb)), site=[site.ref])

    assert not ok
    assert "bomb.xml" in message and "DOCTYPE" in message


def test_external_entities_are_refused(make_customer, write_file, run):
    site = make_customer().sites.get()
    xxe = (
        '<?xml version="1.0"?>\n<!DOCTYPE feed [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>&x;</title></feed>'
    )

    ok, message = run("import_readings", str(write_file("xxe.xml", xxe)), site=[site.ref])

    assert not ok
    assert "DOCTYPE" in message


def test_malformed_xml_names_the_line(make_customer, write_file, run):
    site = make_customer().sites.get()
    path = write_file(
        "broken.xml",
        '<?xml version="1.0"?>\n<feed xmlns="http://www.w3.org/2005/Atom">\n<entry>\n</feed>\n',
    )

    ok, message = run("import_readings", str(path), site=[site.ref])

    assert not ok
    assert "broken.xml, line 4" in message and "malformed" in message


def test_negative_value_names_the_element(make_customer, write_file, run):
    site = make_customer().sites.get()
    path = write_file(
        "neg.xml", feed(usage_point(1), meter_reading(1, "e"), reading_type("e"), block(1, 5, -3))
    )

    ok, message = run("import_readings", str(path), site=[site.ref])

    assert not ok
    assert "element IntervalReading" in message and "negative" in message
    assert Reading.objects.count() == 0
