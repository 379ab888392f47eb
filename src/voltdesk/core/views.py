from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect

from .roles import is_staff_user


@login_required
def home(request):
    """Staff land on the desk, customers in the portal."""
    return redirect("desk:home" if is_staff_user(request.user) else "portal:home")
