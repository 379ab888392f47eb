"""Answers suggested while the agent types: the htmx fragments of the intake form.

* ``suggest`` (``desk:knowledge:suggest``, GET ``?q=...&type=...``): the top answers
  for what the caller says (``q``) and the work order's type (``type``, optional),
  in the agent's language where the article has it;
* ``use`` (``desk:knowledge:use``, POST): the agent used an article's answer; one
  more use is counted (``services.record_article_use``), which ranks it higher.

Staff with ``knowledge.view_article`` (every role that answers callers); customer
users get 403, anonymous visitors log in. Only articles agents may read today are
suggested or counted (``services.articles_for_agents``).
"""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from voltdesk.core.choices import Language
from voltdesk.workorders.choices import OrderType

from . import search, services
from .review_views import permission_required

READ = "knowledge.view_article"
SUGGESTIONS = 5
MAX_QUERY = 4000  # the intake form's description


def _agent_language() -> str:
    code = (get_language() or "en").lower()
    if code.startswith("zh"):
        return Language.ZH_HANS
    return code if code in Language.values else Language.EN


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


@permission_required(READ)
def suggest(request):
    query = request.GET.get("q", "")
    order_type = request.GET.get("type", "").strip()
    errors = []
    if len(query) > MAX_QUERY:
        errors.append(
            _("q: the text is %(length)s characters long; at most %(max)s are searched.")
            % {"length": len(query), "max": MAX_QUERY}
        )
    if order_type and order_type not in OrderType.values:
        errors.append(
            _("type: %(value)s is not a work-order type (%(known)s).")
            % {"value": order_type[:40], "known": ", ".join(OrderType.values)}
        )
    if errors:
        return render(request, "knowledge/suggestions.html", {"errors": errors}, status=400)
    hits = search.search_articles(
        query, language=_agent_language(), order_type=order_type or None, limit=SUGGESTIONS
    )
    return render(
        request,
        "knowledge/suggestions.html",
        {"hits": hits, "searched": bool(query.strip()), "order_type": order_type},
    )


@require_POST
@permission_required(READ)
def use(request, pk):
    article = get_object_or_404(services.articles_for_agents(), pk=pk)
    services.record_article_use(article)
    search.note_article_use(article.pk)
    if _is_htmx(request):
        return render(request, "knowledge/suggestion_used.html", {"article": article})
    messages.success(request, _("Thank you: the use of this answer is counted."))
    return redirect("desk:knowledge:article", pk=article.pk)
