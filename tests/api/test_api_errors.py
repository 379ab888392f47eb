"""Malformed requests get a 4xx JSON answer naming the field and why, never a 5xx."""

import pytest

SITE = "/api/v1/sites/{site}"


def errors_of(response):
    body = response.json()
    return {e["field"]: e for e in body.get("errors", [])}


@pytest.mark.parametrize(
    ("path", "params", "field", "needle"),
    [
        ("/customers", {"limit": "0"}, "limit", "greater than or equal to 1"),
        ("/customers", {"limit": "501"}, "limit", "less than or equal to 500"),
        ("/customers", {"limit": "ten"}, "limit", "whole number"),
        ("/customers", {"limit": "1.5"}, "limit", "whole number"),
        ("/customers", {"offset": "-1"}, "offset", "greater than or equal to 0"),
        ("/customers", {"offset": "99999999999999999999999"}, "offset", "less than or equal"),
        ("/customers", {"q": "x" * 101}, "q", "at most 100 characters"),
        ("/customers", {"q": "bad\x00name"}, "q", ""),
        ("/sites/{site}/readings", {"from": "yesterday"}, "from", "ISO 8601"),
        ("/sites/{site}/readings", {"to": "2024-13-01"}, "to", "ISO 8601"),
        ("/sites/{site}/readings", {"from": "2024-02-30"}, "from", "ISO 8601"),
        ("/sites/{site}/readings", {"from": "0001-01-01"}, "from", "ISO 8601"),
        ("/sites/{site}/readings", {"from": "2024-03-02", "to": "2024-03-01"}, "to", "later"),
        ("/sites/{site}/readings", {"from": "2024-03-01", "to": "2024-03-01"}, "to", "later"),
        (
            "/sites/{site}/readings",
            {"from": "2024-03-01T10:00+02:00", "to": "2024-03-01T08:00Z"},
            "to",
            "later",
        ),
        ("/sites/{site}/readings", {"limit": "-5"}, "limit", "greater than or equal"),
        ("/sites/{site}/consumption", {}, "from", "required"),
        ("/sites/{site}/consumption", {"from": "2024-03-01"}, "to", "required"),
        ("/sites/{site}/consumption", {"from": "March", "to": "2024-04-01"}, "from", "YYYY-MM-DD"),
        (
            "/sites/{site}/consumption",
            {"from": "2024-03-01", "to": "2024-04-31"},
            "to",
            "YYYY-MM-DD",
        ),
        ("/sites/{site}/consumption", {"from": "2024-04-01", "to": "2024-03-01"}, "to", "later"),
        ("/sites/{site}/consumption", {"from": "1950-01-01", "to": "2999-12-31"}, "to", "at most"),
        (
            "/sites/{site}/consumption",
            {"from": "0001-01-01", "to": "0001-02-01"},
            "from",
            "between",
        ),
        ("/sites/{site}/consumption", {"from": "2024-01-01", "to": "9999-12-31"}, "to", "between"),
    ],
)
def test_malformed_input_gets_422_naming_the_field(call, world, path, params, field, needle):
    url = "/api/v1" + path.format(site=world.site_a.ref)

    response = call("agent", url, **params)

    assert response.status_code == 422, response.content
    body = response.json()
    assert body["detail"]
    assert field in errors_of(response), body
    assert needle in errors_of(response)[field]["message"]


@pytest.mark.parametrize(
    "path",
    [
        "/customers/NO-SUCH",
        "/customers/NO-SUCH/sites",
        "/customers/NO-SUCH/contracts",
        "/sites/NO-SUCH",
        "/sites/NO-SUCH/readings",
        "/sites/NO-SUCH/consumption?from=2024-01-01&to=2024-02-01",
    ],
)
def test_unknown_refs_are_404(call, world, path):
    response = call("agent", "/api/v1" + path)

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize(
    "path",
    ["/customers/%00", "/sites/bad%01ref", "/customers/" + "9" * 41, "/sites/%7F/readings"],
)
def test_refs_that_cannot_exist_are_refused_without_a_500(call, world, path):
    response = call("agent", "/api/v1" + path)

    assert response.status_code in (404, 422)
    assert response["Content-Type"].startswith("application/json")


def test_unknown_api_path_is_404(call, world):
    assert call("agent", "/api/v1/nothing-here").status_code == 404


def test_a_domain_error_during_validation_is_not_a_500(call, world, monkeypatch):
    """A Django ValidationError escaping from parsing is answered as invalid input."""
    from django.core.exceptions import ValidationError

    import voltdesk.metering.api as metering_api

    def exploding(field, value):
        raise ValidationError({"from": ["Not a day we know."]})

    monkeypatch.setattr(metering_api, "parse_moment", exploding)

    response = call("agent", f"/api/v1/sites/{world.site_a.ref}/readings", **{"from": "x"})

    assert response.status_code == 422
    assert errors_of(response)["from"]["message"] == "Not a day we know."


def test_a_missing_utility_is_a_503_not_a_500(call, world):
    from voltdesk.core.models import Utility

    Utility.objects.all().delete()

    response = call("agent", f"/api/v1/sites/{world.site_a.ref}/readings", **{"from": "2024-01-01"})

    assert response.status_code == 503


def test_a_metering_rule_refusing_the_question_is_a_422(call, world, monkeypatch):
    import voltdesk.metering.visibility as metering_api
    from voltdesk.metering.services import ConsumptionError

    def refuse(site, date_from, date_to):
        raise ConsumptionError("cannot answer that")

    monkeypatch.setattr(metering_api, "site_consumption", refuse)

    response = call(
        "agent",
        f"/api/v1/sites/{world.site_a.ref}/consumption",
        **{"from": "2024-03-01", "to": "2024-04-01"},
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["message"] == "cannot answer that"
