"""One-time notice pages: print (desk), send (desk), and the customer's link (public).

* ``notice_pdf`` (``desk:knowledge:notice_pdf``): a published notice as a PDF,
  ``?language=`` en, he or zh-hans (default: the page's language).
* ``notice_send`` (``desk:knowledge:notice_send``, POST): from a notice's page
  or a customer's 360: queue it by SMS or e-mail (or, with ``print``, open the
  PDF in the chosen language instead).
* ``public_notice_pdf`` (``/notice/<token>.pdf``): the link sent to the
  customer; the signed token is the credential, no log-in; a forged, expired or
  unknown token is 404.

Staff with ``knowledge.view_article`` (every role that answers callers) print
and send notices; customer users get 403.
"""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from voltdesk.core.access import visible_customers
from voltdesk.core.choices import Language
from voltdesk.notifications.choices import Channel

from . import notices
from .review_views import permission_required

READ = "knowledge.view_article"


def _pdf_response(pdf: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type=notices.CONTENT_TYPE)
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def _bad_language(request, language: str):
    return render(
        request,
        "knowledge/notice_send.html",
        {
            "errors": [
                (
                    "language",
                    _("language: %(lang)s is not one of %(known)s.")
                    % {"lang": language, "known": ", ".join(Language.values)},
                )
            ],
            "back": "",
        },
        status=400,
    )


@permission_required(READ)
def notice_pdf(request, key):
    article = get_object_or_404(
        notices.published_notices().select_related("published_version"), key=key
    )
    language = request.GET.get("language") or get_language()
    if language not in Language.values:
        return _bad_language(request, language)
    pdf = notices.render_notice_pdf(article, language)
    return _pdf_response(pdf, notices.pdf_filename(article, language))


def _safe_next(request) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("desk:home")


@permission_required(READ)
@require_POST
def notice_send(request):
    """Send (or print) the chosen notice; refused input is listed by field, status 400."""
    user = request.user
    post = request.POST
    errors: list[tuple[str, str]] = []
    key = post.get("article", "").strip()
    article = (
        notices.published_notices().select_related("published_version").filter(key=key).first()
        if key
        else None
    )
    if article is None:
        errors.append(("article", _("notice: choose a published one-time notice.")))
    customer = None
    ref = post.get("customer", "").strip()
    if ref:
        customer = visible_customers(user).filter(ref=ref).first()
        if customer is None:
            errors.append(("customer", _("customer: no customer %(ref)s.") % {"ref": ref}))
    language = post.get("language", "").strip() or None
    if language and language not in Language.values:
        errors.append(
            (
                "language",
                _("language: %(lang)s is not one of %(known)s.")
                % {"lang": language, "known": ", ".join(Language.values)},
            )
        )
    channel = post.get("channel", "")
    printing = bool(post.get("print"))
    if not printing and channel not in Channel.values:
        errors.append(("channel", _("channel: choose SMS or e-mail.")))
    if not errors and printing:
        language = language or getattr(customer, "language", "") or get_language()
        url = reverse("desk:knowledge:notice_pdf", args=[article.key])
        return redirect(f"{url}?language={language}")
    if not errors:
        to = (
            post.get("to", "").strip()
            or post.get("phone" if channel == Channel.SMS else "email", "").strip()
        )
        try:
            message = notices.send_notice(
                user, article, customer=customer, channel=channel, to=to or None, language=language
            )
        except notices.NoticeError as exc:
            errors.append((exc.field, exc.message))
        else:
            messages.success(
                request,
                _("The notice “%(title)s” is queued to %(address)s.")
                % {"title": message.payload.get("title", article.key), "address": message.address},
            )
            return redirect(_safe_next(request))
    return render(
        request,
        "knowledge/notice_send.html",
        {"errors": errors, "back": _safe_next(request), "nav": ""},
        status=400,
    )


def public_notice_pdf(request, token):
    """The customer's link: the version and language sent, while the link is valid."""
    found = notices.read_notice_token(token)
    if found is None:
        raise Http404("unknown or expired notice link")
    version, language = found
    pdf = notices.render_notice_pdf(version.article, language, version=version)
    response = _pdf_response(pdf, notices.pdf_filename(version.article, language))
    # Whoever holds the link may read it; nothing else should keep or index it.
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Robots-Tag"] = "noindex"
    return response
