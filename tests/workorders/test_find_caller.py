"""Who is calling: staff take one statement, customer users the access module; both agree."""

import pytest

from voltdesk.core import roles
from voltdesk.workorders.services import find_caller


@pytest.fixture
def callers(make_customer, make_user, place, member):
    alpha = make_customer(name="Alpha Plastics")
    beta = make_customer(name="Beta Foods")
    site = place(alpha, "fv", critical_load=True)
    member(alpha)
    return {
        "alpha": alpha,
        "beta": beta,
        "site": site,
        "agent": make_user(roles.AGENT),
        "alpha_user": make_user(roles.CUSTOMER, customer=alpha),
    }


def test_an_agent_naming_a_site_gets_its_holder_area_feeder_and_club_status(callers):
    customer, site, is_member = find_caller(callers["agent"], site_ref=callers["site"].ref)
    assert (customer.ref, site.ref, is_member) == (callers["alpha"].ref, callers["site"].ref, True)
    assert site.critical_load is True  # a boolean, as the ORM reads it, on both databases
    assert (site.area.name, site.area.kind, site.feeder.name) == ("Galilee", "rural", "GL-1")
    assert site.customer is customer


def test_an_agent_naming_a_customer_number_gets_it_and_whether_it_is_in_the_club(callers):
    customer, site, is_member = find_caller(callers["agent"], customer_ref=callers["beta"].ref)
    assert (customer.name, site, is_member) == ("Beta Foods", None, False)
    assert customer.created_at.tzinfo is not None  # a datetime, not SQLite's text


def test_a_site_without_area_or_feeder_comes_without_them(callers):
    bare = callers["beta"].sites.get()
    _customer, site, _is_member = find_caller(callers["agent"], site_ref=bare.ref)
    assert (site.area, site.feeder) == (None, None)


def test_unknown_numbers_are_not_found(callers):
    assert find_caller(callers["agent"], site_ref="NO-SUCH-SITE") is None
    assert find_caller(callers["agent"], customer_ref="NO-SUCH-CUSTOMER") is None


def test_a_customer_user_finds_only_itself(callers):
    own = callers["alpha_user"]
    customer, site, _ = find_caller(own, site_ref=callers["site"].ref)
    assert (customer, site) == (callers["alpha"], callers["site"])
    assert find_caller(own, customer_ref=callers["beta"].ref) is None
    assert find_caller(own, site_ref=callers["beta"].sites.get().ref) is None
    customer, site, _ = find_caller(own)
    assert (customer, site) == (callers["alpha"], None)
