from django.core.management import call_command

from voltdesk.core.models import Utility


def run_init(profile, capsys):
    call_command("init", profile=profile)
    return capsys.readouterr().out


def test_init_creates_the_utility_from_the_profile(db, capsys):
    out = run_init("cn", capsys)

    utility = Utility.objects.get()
    assert "Created utility" in out
    assert utility.currency == "CNY"
    assert utility.time_zone == "Asia/Shanghai"
    assert utility.default_language == "zh-hans"
    assert utility.fault_line == "95598"
    assert utility.holiday_country == "CN"


def test_init_again_changes_nothing_and_says_so(db, capsys):
    run_init("il", capsys)
    utility = Utility.objects.get()
    utility.vip_single_site_kwh = 900_000  # the administrator edited the profile
    utility.save()

    out = run_init("cn", capsys)

    assert "nothing changed" in out
    utility = Utility.objects.get()
    assert utility.profile == "il"
    assert utility.vip_single_site_kwh == 900_000
