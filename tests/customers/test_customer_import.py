"""voltdesk import_customers: a utility moving its customers from the old system."""

import pytest
from django.core.management import CommandError, call_command

from voltdesk.core.models import AuditEntry
from voltdesk.customers.models import Customer

HEADER = "customer_ref,name,kind,phone,email,language,id_number,address"


def run(path, capsys):
    call_command("import_customers", str(path))
    return capsys.readouterr().out


def refused(path) -> str:
    with pytest.raises(CommandError) as exc:
        call_command("import_customers", str(path))
    return str(exc.value)


def test_customers_are_created_with_normalised_details(utility, write_csv, ids, capsys):
    path = write_csv(
        "customers.csv",
        HEADER,
        f"C1,Acme Ltd,business,03-1234567,Info@Acme.CO.IL,en,{ids.il_company},1 Herzl St",
        f"C2,Dana Levi,Residential,054 234 5678,,he,{ids.il_person},",
        "C3,No Details,residential,,,,,",
    )

    out = run(path, capsys)

    assert "3 created, 0 updated, 0 unchanged" in out
    acme = Customer.objects.get(ref="C1")
    assert (acme.kind, acme.phone, acme.email, acme.language) == (
        "business",
        "+97231234567",
        "Info@acme.co.il",
        "en",
    )
    assert (acme.id_kind, acme.id_number, acme.address) == (
        "il_company",
        ids.il_company,
        "1 Herzl St",
    )
    dana = Customer.objects.get(ref="C2")
    assert (dana.kind, dana.id_kind, dana.id_number, dana.phone) == (
        "residential",
        "il_id",
        ids.il_person,
        "+972542345678",
    )
    bare = Customer.objects.get(ref="C3")
    assert (bare.phone, bare.email, bare.language, bare.id_kind, bare.id_number) == ("",) * 5


def test_identifiers_are_written_compact(utility, write_csv, ids, capsys):
    company = ids.il_company
    path = write_csv(
        "customers.csv",
        HEADER,
        f"C1,Acme Ltd,business,,,,{company[:2]}-{company[2:8]}-{company[8]},",
    )

    run(path, capsys)

    assert Customer.objects.get(ref="C1").id_number == company


def test_chinese_utility_checks_credit_codes_and_resident_ids(utility_cn, write_csv, ids, capsys):
    path = write_csv(
        "customers.csv",
        HEADER,
        f"C1,北京电力设备有限公司,business,010-12345678,,zh-hans,{ids.cn_uscc},北京市东城区",
        f"C2,张伟,residential,13800138000,,zh-hans,{ids.cn_resident.lower()},",
    )

    run(path, capsys)

    company = Customer.objects.get(ref="C1")
    assert (company.name, company.id_kind, company.id_number, company.phone) == (
        "北京电力设备有限公司",
        "cn_uscc",
        ids.cn_uscc,
        "+861012345678",
    )
    assert company.address == "北京市东城区"
    person = Customer.objects.get(ref="C2")
    assert (person.name, person.id_kind, person.id_number, person.phone) == (
        "张伟",
        "cn_ric",
        ids.cn_resident,
        "+8613800138000",
    )


def test_chinese_utility_refuses_an_israeli_company_number(utility_cn, write_csv, ids):
    path = write_csv("customers.csv", HEADER, f"C1,公司,business,,,,{ids.il_company},")

    message = refused(path)

    assert "line 2" in message
    assert "Chinese unified social credit code" in message
    assert not Customer.objects.exists()


def test_hebrew_and_chinese_names_survive(utility, write_csv, capsys):
    path = write_csv(
        "customers.csv",
        HEADER,
        'C1,"חברת החשמל לישראל בע""מ",business,,,he,,"רח׳ הרצל 1, חיפה"',
        "C2,上海浦东新区供电公司,business,,,zh-hans,,",
    )

    run(path, capsys)

    assert Customer.objects.get(ref="C1").name == 'חברת החשמל לישראל בע"מ'
    assert Customer.objects.get(ref="C1").address == "רח׳ הרצל 1, חיפה"
    assert Customer.objects.get(ref="C2").name == "上海浦东新区供电公司"


def test_importing_the_same_file_again_changes_nothing(utility, write_csv, ids, capsys):
    path = write_csv(
        "customers.csv",
        HEADER,
        f"C1,Acme Ltd,business,03-1234567,info@acme.co.il,en,{ids.il_company},1 Herzl St",
        "C2,דנה לוי,residential,054-2345678,,he,,",
    )
    run(path, capsys)
    before = list(Customer.objects.order_by("ref").values())
    audit_entries = AuditEntry.objects.count()

    out = run(path, capsys)

    assert "0 created, 0 updated, 2 unchanged" in out
    assert list(Customer.objects.order_by("ref").values()) == before
    assert AuditEntry.objects.count() == audit_entries


def test_a_changed_row_updates_the_customer(utility, write_csv, capsys):
    run(
        write_csv("v1.csv", HEADER, "C1,Acme,business,,,en,,Old St", "C2,Beta,business,,,,,"),
        capsys,
    )

    out = run(
        write_csv(
            "v2.csv", HEADER, "C1,Acme Ltd,business,04-8123456,,he,,New St", "C2,Beta,business,,,,,"
        ),
        capsys,
    )

    assert "0 created, 1 updated, 1 unchanged" in out
    acme = Customer.objects.get(ref="C1")
    assert (acme.name, acme.phone, acme.language, acme.address) == (
        "Acme Ltd",
        "+97248123456",
        "he",
        "New St",
    )


def test_optional_columns_left_out_keep_what_is_stored(utility, write_csv, ids, capsys):
    run(write_csv("full.csv", HEADER, f"C1,Acme,business,,,,{ids.il_company},1 Herzl St"), capsys)

    out = run(
        write_csv(
            "short.csv", "customer_ref,name,kind,phone,email,language", "C1,Acme,business,,,"
        ),
        capsys,
    )

    assert "1 unchanged" in out
    acme = Customer.objects.get(ref="C1")
    assert (acme.id_number, acme.address) == (ids.il_company, "1 Herzl St")


BAD_FILES = {
    "missing column": (
        ["customer_ref,name,kind,phone,language", "C9,X,business,,en"],
        1,
        "missing column(s) email",
    ),
    "unknown column": (
        ["customer_ref,name,kind,phone,email,language,fax", "C9,X,business,,,en,1"],
        1,
        "unknown column(s) fax",
    ),
    "unknown kind": ([HEADER, "C9,X,industrial,,,en,,"], 3, "unknown kind industrial"),
    "bad company number": (
        [HEADER, "C9,X,business,,,en,{bad_company},"],
        3,
        "is not a valid Israeli company number: the check digit is wrong",
    ),
    "bad ID number": (
        [HEADER, "C9,X,residential,,,en,12345,"],
        3,
        "is not a valid Israeli ID number",
    ),
    "bad phone": ([HEADER, "C9,X,business,12345,,en,,"], 3, "12345 is not a valid phone number"),
    "not a phone": ([HEADER, "C9,X,business,call us,,en,,"], 3, "is not a phone number"),
    "bad e-mail": ([HEADER, "C9,X,business,,x@,en,,"], 3, "x@ is not a valid e-mail address"),
    "unknown language": ([HEADER, "C9,X,business,,,fr,,"], 3, "unknown language fr"),
    "duplicate ref": (
        [HEADER, "C1,Again,business,,,en,,"],
        3,
        "C1 appears again (first on line 2)",
    ),
    "empty name": ([HEADER, "C9,,business,,,en,,"], 3, "name is empty"),
    "empty ref": ([HEADER, ",X,business,,,en,,"], 3, "customer_ref is empty"),
    "empty kind": ([HEADER, "C9,X,,,,en,,"], 3, "kind is empty"),
    "wrong field count": ([HEADER, "C9,X,business"], 3, "expected 8 fields, found 3"),
}


@pytest.mark.parametrize("case", BAD_FILES, ids=list(BAD_FILES))
def test_a_bad_file_is_refused_whole_naming_file_line_and_reason(utility, write_csv, ids, case):
    lines, line_no, reason = BAD_FILES[case]
    lines = [line.format(bad_company=ids.wrong(ids.il_company)) for line in lines]
    if lines[0] == HEADER:
        # A good line first: it must not be written either.
        lines.insert(1, "C1,Good Customer,business,,,en,,")
    path = write_csv("bad-customers.csv", *lines)

    message = refused(path)

    assert f"bad-customers.csv, line {line_no}: " in message
    assert reason in message
    assert not Customer.objects.exists()


def test_a_refused_file_leaves_existing_customers_as_they_were(utility, write_csv, capsys):
    run(write_csv("v1.csv", HEADER, "C1,Acme,business,,,en,,"), capsys)

    refused(write_csv("v2.csv", HEADER, "C1,Acme Renamed,business,,,en,,", "C2,Bad,business,1,,,,"))

    assert list(Customer.objects.values_list("ref", "name")) == [("C1", "Acme")]


def test_a_file_that_is_not_utf8_is_refused(utility, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes((HEADER + "\nC1,Caf\xe9,business,,,,,\n").encode("latin-1"))

    message = refused(path)

    assert "latin1.csv, line 2" in message
    assert "UTF-8" in message


def test_a_missing_file_is_refused(utility, tmp_path):
    assert "nowhere.csv" in refused(tmp_path / "nowhere.csv")


def test_without_a_utility_the_command_says_how_to_set_one_up(db, write_csv):
    message = refused(write_csv("customers.csv", HEADER, "C1,Acme,business,,,en,,"))

    assert "voltdesk init" in message
