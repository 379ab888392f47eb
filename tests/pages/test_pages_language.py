"""The language switcher: on every layout, right to left for Hebrew, saved for signed-in users."""

from django.test import Client
from django.urls import reverse

from voltdesk.core.models import UserProfile


def choose(client, language, next_url):
    return client.post(
        reverse("choose_language"), {"language": language, "next": next_url}, follow=True
    )


def test_every_layout_has_the_switcher(world, client_for):
    pages = [
        (client_for(None), reverse("login")),
        (client_for(world.agent), reverse("desk:home")),
        (client_for(world.a_user), reverse("portal:home")),
    ]
    for client, page in pages:
        html = client.get(page).content.decode()
        assert f'action="{reverse("choose_language")}"' in html, page
        assert 'value="he"' in html and "עברית" in html, page
        assert 'value="zh-hans"' in html and "中文" in html, page
        assert 'value="en"' in html and "English" in html, page


def test_hebrew_pages_are_right_to_left_with_the_rtl_stylesheet(utility, client):
    response = choose(client, "he", reverse("login"))

    html = response.content.decode()
    assert '<html lang="he" dir="rtl">' in html
    assert "vendor/bootstrap/bootstrap.rtl.min.css" in html
    assert "vendor/bootstrap/bootstrap.min.css" not in html


def test_chinese_and_english_pages_are_left_to_right(utility, client):
    html = choose(client, "zh-hans", reverse("login")).content.decode()
    assert '<html lang="zh-hans" dir="ltr">' in html
    assert "vendor/bootstrap/bootstrap.min.css" in html

    html = choose(client, "en", reverse("login")).content.decode()
    assert '<html lang="en" dir="ltr">' in html


def test_signed_in_users_choice_is_saved_and_follows_them(world, client_for):
    response = choose(client_for(world.agent), "he", reverse("desk:home"))
    assert '<html lang="he" dir="rtl">' in response.content.decode()
    assert UserProfile.objects.get(user=world.agent).language == "he"

    # Another browser, no language cookie: the saved choice still applies.
    elsewhere = Client()
    elsewhere.force_login(world.agent)
    html = elsewhere.get(reverse("desk:home")).content.decode()
    assert '<html lang="he" dir="rtl">' in html


def test_a_saved_choice_can_be_changed(world, client_for):
    UserProfile.objects.create(user=world.a_user, language="he")
    client = client_for(world.a_user)

    html = choose(client, "zh-hans", reverse("portal:home")).content.decode()

    assert '<html lang="zh-hans" dir="ltr">' in html
    assert UserProfile.objects.get(user=world.a_user).language == "zh-hans"


def test_anonymous_choice_saves_no_profile(utility, client):
    choose(client, "he", reverse("login"))

    assert not UserProfile.objects.exists()


def test_unknown_language_changes_nothing(world, client_for):
    client = client_for(world.agent)

    html = choose(client, "xx", reverse("desk:home")).content.decode()

    assert '<html lang="en" dir="ltr">' in html
    assert not UserProfile.objects.filter(user=world.agent).exists()


def test_switcher_needs_post(utility, client):
    assert client.get(reverse("choose_language")).status_code == 405


def test_months_and_amounts_are_written_the_users_way(world, client_for):
    client = client_for(world.a_user)
    month = world.months[-1]

    english = client.get(reverse("portal:home")).content.decode()
    chinese = choose(client, "zh-hans", reverse("portal:home")).content.decode()
    hebrew = choose(client, "he", reverse("portal:home")).content.decode()

    assert month.strftime("%B %Y") in english
    assert f"{month.year}年{month.month}月" in chinese
    # 24 months x 2,222 kWh, grouped by thousands in all three (voltdesk/formats/:
    # Django's Hebrew locale would not group, its Chinese one would group by 10,000).
    assert "53,328" in english
    assert "53,328" in chinese
    assert "53,328" in hebrew
