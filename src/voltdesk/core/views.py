from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.views import i18n
from django.views.decorators.http import require_POST

from .models import UserProfile
from .roles import is_staff_user


@login_required
def home(request):
    """Staff land on the desk, customers in the portal."""
    return redirect("desk:home" if is_staff_user(request.user) else "portal:home")


@require_POST
def choose_language(request):
    """Django's set_language, and for a signed-in user the choice saved on the profile.

    The profile wins over the cookie (UserLanguageMiddleware), so without saving it
    a signed-in user could not change language at all; saved, it follows them to
    any browser.
    """
    response = i18n.set_language(request)
    code = request.POST.get("language")
    if request.user.is_authenticated and code in dict(settings.LANGUAGES):
        UserProfile.objects.update_or_create(user=request.user, defaults={"language": code})
    return response
