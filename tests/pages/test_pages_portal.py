"""What a customer sees in the portal: its own sites, contracts and consumption."""

import datetime as dt

from django.urls import reverse


def test_overview_shows_own_sites_contracts_and_consumption(world, client_for):
    html = client_for(world.a_user).get(reverse("portal:home")).content.decode()

    assert world.a.name in html
    for site in world.a.sites.all():
        assert site.ref in html
    assert "2,222" in html  # two sites of 1,111 kWh each in a month
    assert "53,328" in html  # 24 months x 2,222 kWh
    assert 'id="monthly-chart-data"' in html
    assert "vendor/echarts/echarts.min.js" in html


def test_overview_shows_nothing_of_another_customer(world, client_for):
    html = client_for(world.b_user).get(reverse("portal:home")).content.decode()

    assert world.b.name in html
    assert world.a.name not in html
    assert world.a.ref not in html
    assert world.a_site.ref not in html
    assert "1,111" not in html


def test_site_page_shows_monthly_and_daily_consumption(world, client_for):
    client = client_for(world.a_user)

    html = client.get(reverse("portal:site", args=[world.a_site.ref])).content.decode()

    assert world.a_site.ref in html
    assert "1,111" in html
    assert 'id="daily-chart-data"' in html
    assert "370" in html  # ten days of 37 kWh


def test_site_page_without_interval_data_says_so(world, client_for):
    second = world.a.sites.order_by("ref").last()

    html = client_for(world.a_user).get(reverse("portal:site", args=[second.ref])).content.decode()

    assert "no interval meter data" in html
    assert 'id="daily-chart-data"' not in html


def test_consumption_page_breaks_down_by_site(world, client_for):
    html = client_for(world.a_user).get(reverse("portal:consumption")).content.decode()

    for site in world.a.sites.all():
        assert site.ref in html
    assert "13,332" in html  # one site, 12 months x 1,111 kWh
    assert "26,664" in html  # both sites


def test_site_that_changed_hands_shows_each_holder_only_its_period(handover, client_for):
    page = reverse("portal:site", args=[handover.site.ref])
    month = f"?month={handover.change:%Y-%m}"
    previous = f"?month={handover.change - dt.timedelta(days=1):%Y-%m}"

    old = client_for(handover.old_user)
    new = client_for(handover.new_user)
    old_html = old.get(page).content.decode()
    new_html = new.get(page).content.decode()

    # 17 months of 300 kWh before the change, 7 months of 70 from it on.
    assert "5,100" in old_html and ">300<" in old_html
    assert ">70<" not in old_html and "490" not in old_html
    assert "490" in new_html and ">70<" in new_html
    assert "5,100" not in new_html and ">300<" not in new_html
    # Daily figures around the change: 3 kWh a day before, 7 after.
    assert ">7<" not in old.get(page + month).content.decode()
    assert ">3<" in old.get(page + previous).content.decode()
    assert ">7<" in new.get(page + month).content.decode()
    assert ">3<" not in new.get(page + previous).content.decode()


def test_overview_of_each_holder_counts_only_its_period(handover, client_for):
    old_html = client_for(handover.old_user).get(reverse("portal:home")).content.decode()
    new_html = client_for(handover.new_user).get(reverse("portal:home")).content.decode()

    assert "5,100" in old_html and "490" not in old_html
    assert "490" in new_html and "5,100" not in new_html
    # The former holder still sees the site it held, marked as such.
    assert handover.site.ref in old_html and "former site" in old_html
