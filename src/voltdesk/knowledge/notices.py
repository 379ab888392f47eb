"""One-time notices (一次性告知书): print one, or send it by SMS or e-mail.

A notice is an article of kind "notice": for one kind of business (new
connection, change of use, meter test, name transfer, ...) its published texts
list the documents to bring, the fees, the steps and the time limits
(``ArticleText.notice``), so that the customer comes once with everything.

* ``render_notice_pdf`` lays the notice out as a PDF in one language, as the
  bill copies are (WeasyPrint; Hebrew right to left; 'Noto Sans CJK SC' for
  Latin and Chinese, 'DejaVu Sans' for Hebrew).
* ``send_notice`` queues it in the outbox: an SMS with the title and a link to
  the PDF, or an e-mail with the whole notice as text and the same link (the
  outbox sends text, not attachments). The link is ``/notice/<token>.pdf``: the
  token is signed (``django.core.signing``) and names the version and language
  sent, so the customer gets exactly what they were told; anyone holding it
  opens the PDF without signing in, for ``LINK_MAX_AGE`` days.
* ``send_notice`` is general on purpose: the desk (an article, a customer's
  page) calls it, and so can appointments (a booking's confirmation) with the
  customer, the channel and the address of the booking.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.core import signing
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from voltdesk.core.choices import Language
from voltdesk.core.services import UtilityNotConfigured, get_utility, log_action
from voltdesk.notifications.choices import Channel
from voltdesk.notifications.services import NotificationError, queue_message

from .choices import ArticleKind, ArticleStatus
from .models import Article, ArticleText, ArticleVersion

logger = logging.getLogger(__name__)

CONTENT_TYPE = "application/pdf"
LINK_MAX_AGE = timedelta(days=30)
_SALT = "voltdesk.knowledge.notice"
NOTICE_PARTS = ("documents", "fees", "steps", "time_limits")


class NoticeError(ValueError):
    """A notice that cannot be printed or sent; ``field`` names the input at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def _today():
    from voltdesk.keyaccounts.tasks_service import local_today

    return local_today()


def published_notices():
    """Notices an agent may hand out today: what agents read, of kind "notice"."""
    from .services import articles_for_agents

    return articles_for_agents(_today()).filter(kind=ArticleKind.NOTICE).order_by("key")


def _default_language() -> str:
    try:
        return get_utility().default_language
    except UtilityNotConfigured:
        return Language.EN


def notice_text(version: ArticleVersion, language: str | None) -> ArticleText:
    """The version's text in ``language``, else in the utility's language, else any."""
    texts = {t.language: t for t in version.texts.all()}
    for candidate in (language, _default_language(), Language.EN):
        if candidate in texts:
            return texts[candidate]
    if texts:
        return texts[sorted(texts)[0]]
    raise NoticeError("language", _("This notice has no text yet."))


def _version_of(article: Article) -> ArticleVersion:
    if article.kind != ArticleKind.NOTICE:
        raise NoticeError("article", _("This article is not a one-time notice."))
    if article.status != ArticleStatus.PUBLISHED or article.published_version_id is None:
        raise NoticeError("article", _("This notice is not published."))
    return article.published_version


def _check_language(language: str | None) -> str | None:
    if language and language not in Language.values:
        raise NoticeError(
            "language",
            _("Unknown language %(lang)s: choose one of %(known)s.")
            % {"lang": language, "known": ", ".join(Language.values)},
        )
    return language or None


@dataclass(frozen=True)
class NoticeContent:
    """What a printed or sent notice says, in one language."""

    title: str
    summary: str
    documents: list
    fees: list
    steps: list
    time_limits: list
    language: str
    version_number: int
    published_at: object

    def payload(self) -> dict:
        return {
            "title": self.title,
            "summary": self.summary,
            **{part: getattr(self, part) for part in NOTICE_PARTS},
        }


def notice_content(version: ArticleVersion, language: str | None) -> NoticeContent:
    text = notice_text(version, language)
    notice = text.notice if isinstance(text.notice, dict) else {}
    parts = {}
    for part in NOTICE_PARTS:
        items = notice.get(part) or []
        parts[part] = [str(item) for item in items] if isinstance(items, list) else [str(items)]
    return NoticeContent(
        title=text.question,
        summary=text.answer,
        language=text.language,
        version_number=version.number,
        published_at=version.published_at,
        **parts,
    )


# The PDF


def notice_pdf_html(version: ArticleVersion, language: str | None) -> str:
    """The HTML the PDF is laid out from, ``dir="rtl"`` for Hebrew."""
    content = notice_content(version, language)
    try:
        utility = get_utility()
    except UtilityNotConfigured:
        utility = None
    with translation.override(content.language):
        return render_to_string(
            "knowledge/notice_pdf.html",
            {
                "notice": content,
                "key": version.article.key,
                "utility": utility,
                "language": content.language,
                "bidi": translation.get_language_bidi(),
                "printed_on": _today(),
            },
        )


def render_notice_pdf(article: Article, language: str | None = None, *, version=None) -> bytes:
    """The notice as a PDF in ``language`` (default: the utility's language).

    ``version`` defaults to the article's published one; a sent link names its own.
    """
    # Imported here: WeasyPrint loads Pango and fonts, which pages without PDFs never need.
    from weasyprint import HTML

    language = _check_language(language)
    version = version or _version_of(article)
    return HTML(string=notice_pdf_html(version, language)).write_pdf()


def pdf_filename(article: Article, language: str) -> str:
    return f"{article.key}-{language}.pdf"


# The public link


def notice_token(version: ArticleVersion, language: str) -> str:
    """A signed, URL-safe token naming the version and language sent."""
    return signing.dumps({"v": version.pk, "l": language}, salt=_SALT, compress=True)


def read_notice_token(token: str) -> tuple[ArticleVersion, str] | None:
    """The version and language a token names, or None when forged, expired or gone."""
    try:
        data = signing.loads(token, salt=_SALT, max_age=LINK_MAX_AGE)
    except signing.BadSignature:  # SignatureExpired is one
        return None
    if not isinstance(data, dict) or data.get("l") not in Language.values:
        return None
    version = (
        ArticleVersion.objects.select_related("article")
        .filter(pk=data.get("v"), article__kind=ArticleKind.NOTICE)
        .first()
    )
    if version is None:
        return None
    return version, data["l"]


def public_notice_path(version: ArticleVersion, language: str) -> str:
    return reverse("notice_pdf_public", args=[notice_token(version, language)])


def public_notice_url(version: ArticleVersion, language: str) -> str:
    """The absolute link for a message (``VOLTDESK_PUBLIC_URL``, else the bare path)."""
    from voltdesk.keyaccounts.portfolio import _public_url

    return _public_url(public_notice_path(version, language))


# Sending


def send_notice(
    actor,
    article: Article,
    customer=None,
    channel: str = Channel.SMS,
    to: str | None = None,
    language: str | None = None,
):
    """Queue the notice for a customer (or any address): returns the outbox message.

    ``to`` defaults to the customer's phone (SMS) or e-mail; ``language`` to the
    customer's, else the utility's. The notice is sent in the language it has a
    text for (the customer's when written). Sending the same notice to the same
    address twice within a minute queues it once (a double click).
    """
    if channel not in Channel.values:
        raise NoticeError("channel", _("Choose SMS or e-mail."))
    language = _check_language(language) or getattr(customer, "language", "") or None
    version = _version_of(article)
    content = notice_content(version, language)
    to = (to or "").strip() or None
    if to is None and customer is None:
        raise NoticeError("to", _("Give a phone number or an e-mail address to send it to."))
    payload = {
        **content.payload(),
        "link": public_notice_url(version, content.language),
        "valid_days": LINK_MAX_AGE.days,
        "article_key": article.key,
        "version": version.number,
    }
    address = to or (customer.phone if channel == Channel.SMS else customer.email) or ""
    minute = timezone.now().strftime("%Y%m%d%H%M")
    with transaction.atomic():
        try:
            message = queue_message(
                channel=channel,
                template="knowledge_notice",
                payload=payload,
                dedupe_key=f"knowledge:notice:{version.pk}:{channel}:{address}:{minute}",
                customer=customer,
                address=to,
                language=content.language,
            )
        except NotificationError as exc:
            raise NoticeError("to", str(exc)) from exc
        log_action(
            actor,
            "knowledge.notice_sent",
            article,
            {
                "version": version.number,
                "channel": channel,
                "language": content.language,
                "customer": getattr(customer, "ref", None),
                "message": message.pk,
            },
        )
    return message
