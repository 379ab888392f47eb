"""``{% bills_card customer %}``: the customer 360's latest bills and open debt.

Read through ``core.access.visible_bills``: staff without ``billing.view_bill``
see no card at all.
"""

from django import template

from voltdesk.billing import payments
from voltdesk.billing.display import format_money, is_overdue, span, status_label
from voltdesk.core.access import visible_bills

register = template.Library()

LATEST = 6


@register.inclusion_tag("desk/bills_card.html", takes_context=True)
def bills_card(context, customer):
    user = context["request"].user
    if not user.has_perm("billing.view_bill"):
        return {"show": False}
    today = payments.today()
    latest = (
        visible_bills(user)
        .filter(customer=customer)
        .select_related("site")
        .order_by("-period_start", "-pk")[:LATEST]
    )
    balance = payments.customer_balance(customer, as_of=today)
    return {
        "show": True,
        "customer": customer,
        "open_debt": format_money(balance.open_debt, balance.currency),
        "overdue": format_money(balance.overdue, balance.currency),
        "has_overdue": balance.overdue > 0,
        "rows": [
            {
                "number": bill.number,
                "is_draft": bill.number is None,
                "pk": bill.pk,
                "kind": bill.get_kind_display(),
                "period": span(bill.period_start, bill.period_end),
                "site": bill.site.ref if bill.site_id else "",
                "total": format_money(bill.total, bill.currency),
                "open": format_money(bill.open_amount, bill.currency),
                "status": bill.get_status_display()
                if bill.status == "draft"
                else status_label(bill, today),
                "overdue": is_overdue(bill, today),
            }
            for bill in latest
        ],
    }
