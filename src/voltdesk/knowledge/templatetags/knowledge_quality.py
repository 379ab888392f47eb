"""Answer-quality review and one-time notices on other pages.

* ``{% review_links article %}``: the reviews that led to each version of an
  article (for its page; ``knowledge/review_links.html`` calls it). Shown to
  supervisors and editors only: agents never read the reviews of colleagues.
* ``{% notice_card customer %}``: the customer 360's "send a one-time notice"
  form, with the customer's phone, e-mail and language filled in.
* ``{% notice_actions article %}``: print and send buttons on a notice's page.
"""

from django import template
from django.utils import translation

from voltdesk.core.choices import Language
from voltdesk.core.services import get_utility
from voltdesk.notifications.choices import Channel

from ..choices import ArticleKind, ArticleStatus
from ..notices import notice_text, published_notices
from ..reviews import reviews_by_version

register = template.Library()


def _may_see_reviews(user) -> bool:
    return user.has_perm("knowledge.view_answerreview") or user.has_perm(
        "knowledge.view_correctiontask"
    )


@register.inclusion_tag("knowledge/review_links_table.html", takes_context=True)
def review_links(context, article):
    user = context["request"].user
    if article is None or not _may_see_reviews(user):
        return {"show": False}
    return {
        "show": True,
        "article": article,
        "rows": reviews_by_version(article),
        "may_review": user.has_perm("knowledge.add_answerreview"),
    }


def _may_send(user) -> bool:
    return user.has_perm("knowledge.view_article")


@register.inclusion_tag("knowledge/notice_card.html", takes_context=True)
def notice_card(context, customer):
    request = context["request"]
    if not _may_send(request.user):
        return {"show": False}
    # Sent in the customer's language; listed in the agent's, who picks one.
    language = customer.language or get_utility().default_language
    shown_in = translation.get_language()
    notices = [
        {"key": article.key, "title": notice_text(article.published_version, shown_in).question}
        for article in published_notices()
        .select_related("published_version")
        .prefetch_related("published_version__texts")
    ]
    return {
        "show": True,
        "customer": customer,
        "notices": notices,
        "language": language,
        "languages": Language.choices,
        "channels": Channel.choices,
        "next": request.get_full_path(),
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("knowledge/notice_actions_form.html", takes_context=True)
def notice_actions(context, article):
    request = context["request"]
    show = (
        article is not None
        and article.kind == ArticleKind.NOTICE
        and article.status == ArticleStatus.PUBLISHED
        and article.published_version_id is not None
        and _may_send(request.user)
    )
    if not show:
        return {"show": False}
    return {
        "show": True,
        "article": article,
        "language": translation.get_language(),
        "languages": Language.choices,
        "channels": Channel.choices,
        "next": request.get_full_path(),
        "csrf_token": context.get("csrf_token"),
    }
