"""Importing readings from CSV: what a user sees when a file is good or bad."""

import datetime as dt
from decimal import Decimal

import pytest

from voltdesk.metering.models import DailyRollup, ImportBatch, MonthlyRollup, Reading

HEADER = "site_ref,start,end,kwh\n"


@pytest.fixture
def site(make_customer):
    return make_customer(name="Kibbutz Dairy").sites.get()


@pytest.fixture
def other_site(make_customer):
    return make_customer(name="北京 Bakery").sites.get()


def readings_csv(*lines):
    return HEADER + "".join(line + "\n" for line in lines)


def test_a_good_file_is_imported_with_exact_kwh(site, write_file, run):
    path = write_file(
        "good.csv",
        readings_csv(
            f"{site.ref},2024-03-10T00:00:00+02:00,2024-03-10T00:15:00+02:00,1.250",
            f"{site.ref},2024-03-10T00:15:00+02:00,2024-03-10T00:30:00+02:00,0.000001",
            f"{site.ref},2024-03-09T22:30:00Z,2024-03-09T22:45:00Z,2",
        ),
    )

    ok, out = run("import_readings", str(path))

    assert ok, out
    assert "3 readings imported for 1 site(s)" in out
    assert Reading.objects.filter(site=site).count() == 3
    # 1.25 + 0.000001 + 2, exactly
    total = sum(Reading.objects.filter(site=site).values_list("kwh", flat=True))
    assert total == Decimal("3.250001")
    assert ImportBatch.objects.get().readings == 3


def test_the_same_file_twice_changes_nothing_and_says_so(site, write_file, run):
    path = write_file(
        "twice.csv",
        readings_csv(f"{site.ref},2024-03-10T00:00:00+02:00,2024-03-10T01:00:00+02:00,4"),
    )
    run("import_readings", str(path))

    ok, out = run("import_readings", str(path))

    assert ok
    assert "already imported" in out and "nothing changed" in out
    assert Reading.objects.count() == 1
    assert ImportBatch.objects.count() == 1


def test_a_file_repeating_stored_readings_exactly_adds_only_the_new_ones(site, write_file, run):
    first = f"{site.ref},2024-03-10T00:00:00+02:00,2024-03-10T01:00:00+02:00,4"
    run("import_readings", str(write_file("a.csv", readings_csv(first))))

    ok, out = run(
        "import_readings",
        str(
            write_file(
                "b.csv",
                readings_csv(
                    first, f"{site.ref},2024-03-10T01:00:00+02:00,2024-03-10T02:00:00+02:00,3"
                ),
            )
        ),
    )

    assert ok, out
    assert "1 readings imported" in out and "1 were already stored" in out
    assert Reading.objects.count() == 2


@pytest.mark.parametrize(
    "row, reason",
    [
        ("{site},2024-03-10T00:00:00,2024-03-10T00:15:00+02:00,1", "has no UTC offset"),
        ("{site},yesterday,2024-03-10T00:15:00+02:00,1", "is not an ISO 8601 time"),
        ("{site},2024-03-10T00:15:00+02:00,2024-03-10T00:15:00+02:00,1", "is not after start"),
        ("{site},2024-03-10T00:15:00+02:00,2024-03-10T00:00:00+02:00,1", "is not after start"),
        ("{site},2024-03-10T00:00:00+02:00,2024-03-10T00:15:00+02:00,-1", "is negative"),
        ("{site},2024-03-10T00:00:00+02:00,2024-03-10T00:15:00+02:00,abc", "is not a number"),
        ("{site},2024-03-10T00:00:00+02:00,2024-03-10T00:15:00+02:00,1.0000001", "6 decimal"),
        ("{site},2024-03-10T00:00:00+02:00,2024-03-10T00:15:00+02:00", "expected 4 fields"),
        ("NO-SUCH-SITE,2024-03-10T00:00:00+02:00,2024-03-10T00:15:00+02:00,1", "unknown site"),
        # PostgreSQL would read these (24:00 as next midnight, a leap second, a
        # spaced time); the exact rules refuse them on every database.
        ("{site},2024-03-10T23:45:00+02:00,2024-03-10T24:00:00+02:00,1", "is not an ISO 8601"),
        ("{site},2024-03-10T00:14:00+02:00,2024-03-10T00:14:60+02:00,1", "is not an ISO 8601"),
        ("{site},2024-03-10T0 :00:00+02:00,2024-03-10T00:15:00+02:00,1", "is not an ISO 8601"),
        ("{site},2024-02-30T00:00:00+02:00,2024-02-30T00:15:00+02:00,1", "is not an ISO 8601"),
        ("{site},2024-03-10T00:00:00+02:00,2024-03-10T00:15:00+02:00,1e3", "plain decimal"),
        ("{site},2024-03-10T00:00:00+02:00,2024-03-10T00:15:00+02:00,NaN", "is not a number"),
        ("{site},2024-03-10T00:00:00+02:00,2024-03-10T00:15:00+02:00,", "is not a number"),
        ('"{site}",2024-03-10T00:15:00+02:00,2024-03-10T00:00:00+02:00,1', "is not after start"),
        ("{site},2024-03-09T00:00:00+02:00,2024-03-09T00:15:00+02:00,1", "overlaps the one at"),
    ],
)
def test_a_bad_line_refuses_the_whole_file_naming_file_line_and_reason(
    site, write_file, run, row, reason
):
    good = f"{site.ref},2024-03-09T00:00:00+02:00,2024-03-09T00:15:00+02:00,1"
    path = write_file("bad.csv", readings_csv(good, row.format(site=site.ref)))

    ok, message = run("import_readings", str(path))

    assert not ok
    assert "bad.csv" in message
    assert "line 3" in message
    assert reason in message
    assert Reading.objects.count() == 0
    assert ImportBatch.objects.count() == 0


def test_wrong_columns_are_refused(site, write_file, run):
    path = write_file("cols.csv", "site,from,to,energy\nx,y,z,1\n")

    ok, message = run("import_readings", str(path))

    assert not ok
    assert "cols.csv, line 1" in message and "wrong columns" in message


def test_a_file_that_is_not_utf8_is_refused(site, write_file, run):
    content = readings_csv(
        f"{site.ref},2024-03-10T00:00:00+02:00,2024-03-10T00:15:00+02:00,1"
    ).encode() + "caf\xe9,x,y,z\n".encode("latin-1")
    path = write_file("latin.csv", content)

    ok, message = run("import_readings", str(path))

    assert not ok
    assert "latin.csv" in message and "not UTF-8" in message
    assert Reading.objects.count() == 0


def test_overlapping_intervals_within_a_file_are_refused(site, other_site, write_file, run):
    path = write_file(
        "overlap.csv",
        readings_csv(
            f"{site.ref},2024-03-10T00:00:00+02:00,2024-03-10T01:00:00+02:00,4",
            f"{other_site.ref},2024-03-10T00:30:00+02:00,2024-03-10T01:00:00+02:00,4",
            f"{site.ref},2024-03-10T00:30:00+02:00,2024-03-10T00:45:00+02:00,1",
        ),
    )

    ok, message = run("import_readings", str(path))

    assert not ok
    assert "line 4" in message and "overlaps the one at line 2" in message
    assert Reading.objects.count() == 0


def test_a_reading_overlapping_a_stored_one_is_refused_not_double_counted(site, write_file, run):
    run(
        "import_readings",
        str(
            write_file(
                "month.csv",
                readings_csv(f"{site.ref},2024-03-01T00:00:00+02:00,2024-04-01T00:00:00+03:00,900"),
            )
        ),
    )
    path = write_file(
        "interval.csv",
        readings_csv(f"{site.ref},2024-03-10T00:00:00+02:00,2024-03-10T00:15:00+02:00,1"),
    )

    ok, message = run("import_readings", str(path))

    assert not ok
    assert "interval.csv, line 2" in message and "overlaps the stored reading" in message
    assert Reading.objects.count() == 1


def test_a_changed_kwh_for_a_stored_interval_is_refused(site, write_file, run):
    row = f"{site.ref},2024-03-10T00:00:00+02:00,2024-03-10T00:15:00+02:00,"
    run("import_readings", str(write_file("a.csv", readings_csv(row + "1"))))

    ok, message = run("import_readings", str(write_file("b.csv", readings_csv(row + "1.5"))))

    assert not ok
    assert "never change them" in message
    assert Reading.objects.get().kwh == Decimal("1")


def test_site_option_for_a_csv_without_site_column(site, write_file, run):
    path = write_file(
        "one-site.csv",
        "start,end,kwh\n2024-03-10T00:00:00+02:00,2024-03-10T00:15:00+02:00,1\n",
    )

    ok, out = run("import_readings", str(path), site=[site.ref])

    assert ok, out
    assert Reading.objects.get().site == site


def test_content_not_extension_decides_the_format(site, write_file, run):
    path = write_file(
        "readings.xml",
        readings_csv(f"{site.ref},2024-03-10T00:00:00+02:00,2024-03-10T00:15:00+02:00,1"),
    )

    ok, out = run("import_readings", str(path))

    assert ok, out
    assert Reading.objects.get().source == "csv"


def test_import_refreshes_daily_and_monthly_rollups(site, write_file, run):
    # Asia/Jerusalem: 2024-01-31 23:00+02:00 to 2024-02-01 00:15+02:00 straddles
    # both a day and a month: 45 minutes in January, 15 in February.
    path = write_file(
        "roll.csv",
        readings_csv(
            f"{site.ref},2024-01-31T22:00:00+02:00,2024-01-31T23:00:00+02:00,1.5",
            f"{site.ref},2024-01-31T23:00:00+02:00,2024-02-01T00:00:00+02:00,2",
            f"{site.ref},2024-02-01T00:00:00+02:00,2024-02-01T01:00:00+02:00,4",
        ),
    )

    run("import_readings", str(path))

    daily = dict(DailyRollup.objects.filter(site=site).values_list("day", "kwh"))
    assert {d.isoformat(): v for d, v in daily.items()} == {
        "2024-01-31": Decimal("3.5"),
        "2024-02-01": Decimal("4"),
    }
    monthly = dict(MonthlyRollup.objects.filter(site=site).values_list("month", "kwh"))
    assert {m.isoformat(): v for m, v in monthly.items()} == {
        "2024-01-01": Decimal("3.5"),
        "2024-02-01": Decimal("4"),
    }


def test_valid_files_in_less_common_forms_import_alike(site, other_site, write_file, run):
    # Quoted fields, CRLF line ends, a space instead of T, fractional seconds,
    # offsets without a colon, kWh with surrounding spaces and a blank line: the
    # PostgreSQL fast path leaves these to the exact path, which takes them all.
    path = write_file(
        "forms.csv",
        (
            "site_ref,start,end,kwh\r\n"
            f'"{site.ref}",2024-03-10 00:00:00+02:00,2024-03-10T00:15:00.5+02:00, 1.5 \r\n'
            "\r\n"
            f"{other_site.ref},2024-03-09T22:00:00+0000,2024-03-09T22:15:00Z,2\r\n"
        ).encode(),
    )

    ok, out = run("import_readings", str(path))

    assert ok, out
    assert Reading.objects.count() == 2
    assert sum(Reading.objects.values_list("kwh", flat=True)) == Decimal("3.5")


def test_a_clean_file_takes_the_copy_path_on_postgresql(
    site, other_site, write_file, run, monkeypatch
):
    from django.db import connection

    from voltdesk.metering import loading

    if connection.vendor != "postgresql":
        pytest.skip("the COPY fast path is PostgreSQL's")
    lines = [
        f"{ref},2024-03-10T{h:02d}:{m:02d}:00+02:00,"
        + (
            f"2024-03-10T{h:02d}:{m + 15:02d}:00+02:00"
            if m < 45
            else f"2024-03-10T{h + 1:02d}:00:00+02:00"
        )
        + f",{h}.{m:02d}"
        for ref in (other_site.ref, site.ref)
        for h in range(0, 3)
        for m in (0, 15, 30, 45)
    ]
    path = write_file("clean.csv", readings_csv(*lines))

    def exact_path(*args, **kwargs):
        raise AssertionError("the exact path ran")

    monkeypatch.setattr(loading, "stage", exact_path)
    ok, out = run("import_readings", str(path))

    assert ok, out
    assert "24 readings imported for 2 site(s)" in out
    assert Reading.objects.filter(site=site).count() == 12
    assert ImportBatch.objects.get().readings == 24
    daily = DailyRollup.objects.get(site=site)
    assert daily.kwh == sum(Reading.objects.filter(site=site).values_list("kwh", flat=True))
    assert MonthlyRollup.objects.get(site=site).kwh == daily.kwh


@pytest.mark.parametrize("line_end", ["\r\n", "\n"])
def test_the_copy_path_reads_crlf_and_lf_files_to_the_same_microkwh(
    site, write_file, run, monkeypatch, line_end
):
    from django.db import connection

    from voltdesk.metering import loading

    if connection.vendor != "postgresql":
        pytest.skip("the COPY fast path is PostgreSQL's")
    rows = [
        f"{site.ref},2024-03-10T00:00:00+02:00,2024-03-10T00:15:00+02:00,0.000001",
        f"{site.ref},2024-03-10T00:15:00+02:00,2024-03-10T00:30:00+02:00,12.5",
        f"{site.ref},2024-03-09T22:30:00Z,2024-03-09T22:45:00Z,123456.789012",
    ]
    body = "site_ref,start,end,kwh" + line_end + "".join(r + line_end for r in rows)

    def exact_path(*args, **kwargs):
        raise AssertionError("the exact path ran")

    monkeypatch.setattr(loading, "stage", exact_path)
    ok, out = run("import_readings", str(write_file("clean.csv", body.encode())))

    assert ok, out
    # 0.000001 + 12.5 + 123,456.789012, by hand:
    assert DailyRollup.objects.get(site=site).kwh == Decimal("123469.289013")
    assert sorted(Reading.objects.values_list("kwh", flat=True)) == [
        Decimal("0.000001"),
        Decimal("12.5"),
        Decimal("123456.789012"),
    ]


def test_times_with_a_space_and_offsets_without_colon_take_the_copy_path_alike(
    site, other_site, write_file, run, monkeypatch
):
    from django.db import connection

    from voltdesk.metering import loading

    if connection.vendor != "postgresql":
        pytest.skip("the COPY fast path is PostgreSQL's")

    def exact_path(*args, **kwargs):
        raise AssertionError("the exact path ran")

    monkeypatch.setattr(loading, "stage", exact_path)
    spaced = readings_csv(
        f"{site.ref},2024-03-10 00:00:00+0200,2024-03-10 00:15:00+0200,1.25",
        f"{site.ref},2024-03-09 22:15:00Z,2024-03-10 00:30:00+02:00,0.75",
        f"{other_site.ref},2024-03-09T17:30:00-0530,2024-03-09T17:45:00-05:30,2",
    )
    ok, out = run("import_readings", str(write_file("spaced.csv", spaced)))

    assert ok, out
    utc = dt.UTC
    stored = sorted(
        (r.site_id, r.start.astimezone(utc), r.end.astimezone(utc), r.kwh)
        for r in Reading.objects.all()
    )
    assert stored == sorted(
        [
            (
                site.pk,
                dt.datetime(2024, 3, 9, 22, 0, tzinfo=utc),
                dt.datetime(2024, 3, 9, 22, 15, tzinfo=utc),
                Decimal("1.25"),
            ),
            (
                site.pk,
                dt.datetime(2024, 3, 9, 22, 15, tzinfo=utc),
                dt.datetime(2024, 3, 9, 22, 30, tzinfo=utc),
                Decimal("0.75"),
            ),
            (
                other_site.pk,
                dt.datetime(2024, 3, 9, 23, 0, tzinfo=utc),
                dt.datetime(2024, 3, 9, 23, 15, tzinfo=utc),
                Decimal("2"),
            ),
        ]
    )


def test_a_clean_file_meeting_stored_readings_is_still_checked(site, write_file, run):
    row = f"{site.ref},2024-03-10T00:00:00+02:00,2024-03-10T00:15:00+02:00,"
    run("import_readings", str(write_file("a.csv", readings_csv(row + "1"))))
    later = f"{site.ref},2024-03-10T00:15:00+02:00,2024-03-10T00:30:00+02:00,2"

    ok, out = run("import_readings", str(write_file("b.csv", readings_csv(row + "1", later))))
    assert ok, out
    assert "1 readings imported" in out and "1 were already stored" in out

    ok, message = run("import_readings", str(write_file("c.csv", readings_csv(row + "3"))))
    assert not ok and "c.csv, line 2" in message and "never change them" in message
    assert Reading.objects.count() == 2


def test_readings_whose_daily_sum_cannot_be_stored_are_refused_whole(site, write_file, run):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite does not hold decimals to their declared digits")
    # Each reading has the largest kWh a column holds; their day's sum has 13 digits.
    path = write_file(
        "huge.csv",
        readings_csv(
            f"{site.ref},2024-03-10T00:00:00+02:00,2024-03-10T00:15:00+02:00,999999999999",
            f"{site.ref},2024-03-10T00:15:00+02:00,2024-03-10T00:30:00+02:00,999999999999",
        ),
    )

    ok, message = run("import_readings", str(path))

    assert not ok
    assert "huge.csv" in message and "12 digits before the point" in message
    assert Reading.objects.count() == 0 and ImportBatch.objects.count() == 0
