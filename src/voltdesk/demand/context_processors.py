"""The portal's banner: open events that touch the signed-in customer's sites."""

from voltdesk.core.access import customer_of

from .services import banner_events


def demand_banner(request):
    if not request.path.startswith("/portal/"):
        return {}
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    customer = customer_of(user)
    if customer is None:
        return {}
    # Lazy: templates call it only where the banner is shown.
    return {"demand_banner": lambda: banner_events(customer)}
