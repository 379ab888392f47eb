"""voltdesk import_network: regions, areas and feeders from the old system."""

import pytest
from django.core.management import CommandError, call_command

from voltdesk.core.models import Area, Feeder, Region

HEADER = "region,area,area_kind,feeder"


@pytest.fixture
def write_csv(tmp_path):
    def write(name, *lines):
        path = tmp_path / name
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    return write


def run(path, capsys):
    call_command("import_network", str(path))
    return capsys.readouterr().out


def refused(path) -> str:
    with pytest.raises(CommandError) as exc:
        call_command("import_network", str(path))
    return str(exc.value)


def network():
    return sorted(
        Feeder.objects.values_list("area__region__name", "area__name", "area__kind", "name")
    )


def test_the_network_is_created(db, write_csv, capsys):
    path = write_csv(
        "network.csv",
        HEADER,
        "North,Haifa,urban,HF-01",
        "North,Haifa,urban,HF-02",
        "North,Galil,Rural,GL-07",
        "South,Arava,remote,",
    )

    out = run(path, capsys)

    assert "2 regions, 3 areas and 3 feeders created; 0 lines unchanged" in out
    assert network() == [
        ("North", "Galil", "rural", "GL-07"),
        ("North", "Haifa", "urban", "HF-01"),
        ("North", "Haifa", "urban", "HF-02"),
    ]
    arava = Area.objects.get(name="Arava")
    assert (arava.region.name, arava.kind, arava.feeders.count()) == ("South", "remote", 0)


def test_hebrew_and_chinese_names_survive(db, write_csv, capsys):
    path = write_csv(
        "network.csv",
        HEADER,
        "מחוז צפון,חיפה,urban,קו 12",
        "华东,上海浦东,urban,浦东10kV一号线",
    )

    run(path, capsys)

    assert network() == [
        ("מחוז צפון", "חיפה", "urban", "קו 12"),
        ("华东", "上海浦东", "urban", "浦东10kV一号线"),
    ]


def test_importing_the_same_file_again_changes_nothing(db, write_csv, capsys):
    path = write_csv("network.csv", HEADER, "North,Haifa,urban,HF-01", "North,Haifa,urban,HF-02")
    run(path, capsys)
    before = (network(), list(Region.objects.values()), list(Area.objects.values()))

    out = run(path, capsys)

    assert "0 regions, 0 areas and 0 feeders created; 2 lines unchanged" in out
    assert (network(), list(Region.objects.values()), list(Area.objects.values())) == before


def test_a_later_file_adds_to_the_network(db, write_csv, capsys):
    run(write_csv("v1.csv", HEADER, "North,Haifa,urban,HF-01"), capsys)

    out = run(
        write_csv("v2.csv", HEADER, "North,Haifa,urban,HF-01", "North,Haifa,urban,HF-03"), capsys
    )

    assert "0 regions, 0 areas and 1 feeders created; 1 lines unchanged" in out
    assert Feeder.objects.get(name="HF-03").area.name == "Haifa"


def test_an_area_is_not_moved_to_another_region_by_an_import(db, write_csv, capsys):
    run(write_csv("v1.csv", HEADER, "North,Haifa,urban,HF-01"), capsys)

    message = refused(write_csv("v2.csv", HEADER, "Coast,Haifa,urban,HF-02"))

    assert "v2.csv, line 2: " in message
    assert "area Haifa already exists in region North as urban" in message
    assert "region Coast" in message
    assert Area.objects.get(name="Haifa").region.name == "North"
    assert not Region.objects.filter(name="Coast").exists()
    assert not Feeder.objects.filter(name="HF-02").exists()


def test_an_area_is_not_given_another_kind_by_an_import(db, write_csv, capsys):
    run(write_csv("v1.csv", HEADER, "North,Haifa,urban,HF-01"), capsys)

    message = refused(write_csv("v2.csv", HEADER, "North,Haifa,rural,HF-01"))

    assert "v2.csv, line 2: " in message
    assert "as rural" in message
    assert Area.objects.get(name="Haifa").kind == "urban"


def test_a_feeder_is_not_moved_to_another_area_by_an_import(db, write_csv, capsys):
    run(write_csv("v1.csv", HEADER, "North,Haifa,urban,HF-01"), capsys)

    message = refused(
        write_csv("v2.csv", HEADER, "North,Galil,rural,GL-01", "North,Galil,rural,HF-01")
    )

    assert "v2.csv, line 3: " in message
    assert "feeder HF-01 already exists under area Haifa" in message
    assert Feeder.objects.get(name="HF-01").area.name == "Haifa"
    assert not Area.objects.filter(name="Galil").exists()


def test_conflicts_within_one_file_name_both_lines(db, write_csv):
    message = refused(
        write_csv(
            "network.csv",
            HEADER,
            "North,Haifa,urban,HF-01",
            "North,Galil,rural,HF-01",
        )
    )

    assert "network.csv, line 3: " in message
    assert "feeder HF-01 was given on line 2 under area Haifa" in message
    assert not Region.objects.exists()

    message = refused(write_csv("network2.csv", HEADER, "North,Haifa,urban,", "South,Haifa,urban,"))
    assert "network2.csv, line 3: area Haifa was given on line 2 in region North" in message


BAD_FILES = {
    "missing column": (
        ["region,area,feeder", "North,Haifa,HF-01"],
        1,
        "missing column(s) area_kind",
    ),
    "unknown column": (
        [HEADER + ",voltage", "North,Haifa,urban,HF-01,22kV"],
        1,
        "unknown column(s) voltage",
    ),
    "unknown area kind": ([HEADER, "North,Haifa,suburban,HF-01"], 3, "unknown area kind suburban"),
    "empty region": ([HEADER, ",Haifa,urban,HF-01"], 3, "region is empty"),
    "empty area": ([HEADER, "North,,urban,HF-01"], 3, "area is empty"),
    "empty kind": ([HEADER, "North,Haifa,,HF-01"], 3, "area_kind is empty"),
    "wrong field count": ([HEADER, "North,Haifa"], 3, "expected 4 fields, found 2"),
    "blank header": ([""], 1, "missing column(s) region, area, area_kind, feeder"),
}


@pytest.mark.parametrize("case", BAD_FILES, ids=list(BAD_FILES))
def test_a_bad_file_is_refused_whole_naming_file_line_and_reason(db, write_csv, case):
    lines, line_no, reason = BAD_FILES[case]
    if lines[0] == HEADER:
        lines = [lines[0], "South,Arava,remote,AR-01", *lines[1:]]
    path = write_csv("bad-network.csv", *lines)

    message = refused(path)

    assert f"bad-network.csv, line {line_no}: " in message
    assert reason in message
    assert not Region.objects.exists()
    assert not Area.objects.exists()
    assert not Feeder.objects.exists()
