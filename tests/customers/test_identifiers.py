import pytest

from voltdesk.customers.choices import IdentifierKind
from voltdesk.customers.identifiers import (
    InvalidValue,
    identifier_kind_for,
    normalise_email,
    normalise_identifier,
    normalise_phone,
)


@pytest.mark.parametrize(
    ("country", "kind", "expected"),
    [
        ("IL", "business", IdentifierKind.IL_COMPANY),
        ("IL", "residential", IdentifierKind.IL_ID),
        ("cn", "business", IdentifierKind.CN_USCC),
        ("CN", "residential", IdentifierKind.CN_RIC),
    ],
)
def test_the_identifier_follows_the_country_and_the_kind_of_customer(country, kind, expected):
    assert identifier_kind_for(country, kind) == expected


def test_a_country_without_identifier_rules_is_refused():
    with pytest.raises(InvalidValue, match="FR"):
        identifier_kind_for("FR", "business")


@pytest.mark.parametrize(
    ("id_kind", "example"),
    [
        (IdentifierKind.IL_COMPANY, "il_company"),
        (IdentifierKind.IL_ID, "il_person"),
        (IdentifierKind.CN_USCC, "cn_uscc"),
        (IdentifierKind.CN_RIC, "cn_resident"),
    ],
)
def test_valid_identifiers_are_kept_and_wrong_check_digits_refused(ids, id_kind, example):
    valid = getattr(ids, example)
    assert normalise_identifier(id_kind, valid) == valid

    with pytest.raises(InvalidValue) as refused:
        normalise_identifier(id_kind, ids.wrong(valid))
    assert str(IdentifierKind(id_kind).label) in str(refused.value)
    assert "check digit" in str(refused.value)


def test_identifiers_are_stored_compact(ids):
    company = ids.il_company
    written = f"{company[:2]}-{company[2:8]}-{company[8]}"

    assert normalise_identifier(IdentifierKind.IL_COMPANY, written) == company
    assert normalise_identifier(IdentifierKind.CN_RIC, ids.cn_resident.lower()) == ids.cn_resident


def test_phones_are_read_in_the_utilitys_country_and_stored_e164():
    assert normalise_phone("03-1234567", "IL") == "+97231234567"
    assert normalise_phone("054 234 5678", "IL") == "+972542345678"
    assert normalise_phone("13800138000", "CN") == "+8613800138000"
    assert normalise_phone("+86 138 0013 8000", "IL") == "+8613800138000"


@pytest.mark.parametrize("bad", ["12345", "call me", "+972 0"])
def test_invalid_phones_are_refused(bad):
    with pytest.raises(InvalidValue):
        normalise_phone(bad, "IL")


def test_email_is_validated_and_its_domain_lower_cased():
    assert normalise_email("Dana.Levi@Example.CO.IL") == "Dana.Levi@example.co.il"
    with pytest.raises(InvalidValue, match="e-mail"):
        normalise_email("dana@")
