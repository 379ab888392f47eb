from .models import Utility
from .roles import is_staff_user


def utility(request):
    """The utility's name and hotline numbers on every page; nothing if not set up yet."""
    return {
        "utility": Utility.objects.order_by("pk").first(),
        "is_desk_user": is_staff_user(request.user) if hasattr(request, "user") else False,
    }
