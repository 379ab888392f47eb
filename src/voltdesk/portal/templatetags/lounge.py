"""``{{ user|sees_money }}``: whether the lounge shows this user bills and payments.

The rule is ``core.access.sees_money``; the menu asks it rather than reading
company roles itself, so a menu link and its page never disagree.
"""

from django import template

from voltdesk.core.access import sees_money as _sees_money
from voltdesk.customers.company_users import manages_users as _manages_users

register = template.Library()


@register.filter
def sees_money(user) -> bool:
    return _sees_money(user)


@register.filter
def manages_users(user) -> bool:
    """``{{ user|manages_users }}``: a company's administrator (``customers.company_users``)."""
    return _manages_users(user)
