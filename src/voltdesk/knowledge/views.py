"""The knowledge base's desk pages, mounted at /desk/knowledge/ (``desk:knowledge:<name>``).

* ``articles``: the list, with filters (topic, status, kind, missing language, key or question);
* ``article``: one article: its published texts side by side in the three languages,
  the open draft or version in review, the history of versions, and the actions;
* ``edit``: a new version (or the editor's own open draft), ``new``: a new article;
* ``transition`` (POST): submit, approve and publish, send back, retire, validity dates.

Who sees what (``core.roles``, ``core.access``): every desk role that answers
callers has ``knowledge.view_article`` and reads published, valid articles only
(their published version; the history of what was published); knowledge
editors (``knowledge.change_article``) see every article and version and act on
them; customer users get 403, anonymous visitors log in. The rules live in
``knowledge.services``; a refusal is shown on the page, never as a 500.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from voltdesk.core.access import visible_article_versions, visible_articles
from voltdesk.core.choices import Language
from voltdesk.core.models import AuditEntry
from voltdesk.core.services import get_utility
from voltdesk.desk.views import staff_required
from voltdesk.workorders.choices import OrderType, Subtype

from . import services
from .choices import ArticleKind, ArticleStatus, VersionStatus
from .forms import (
    ArticleFilterForm,
    ChangeForm,
    NewArticleForm,
    ValidityForm,
    error_to_forms,
    first_error,
    text_forms,
    texts_from,
)
from .models import ArticleText, ArticleVersion
from .queries import filter_articles, questions_by_version, with_current_version
from .services import LANGUAGES, NOTICE_PARTS, KnowledgeError

VIEW = "knowledge.view_article"
ADD = "knowledge.add_article"
EDIT = "knowledge.change_article"
PER_PAGE = 50


def _need(user, perm: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied


def _articles_for(user):
    """Editors: every article; other readers: what agents may use today."""
    qs = visible_articles(user)
    if user.has_perm(EDIT):
        return qs
    return qs.filter(pk__in=services.articles_for_agents().values("pk"))


def _ui_language() -> str:
    """The knowledge base's language code for the page's language (zh-hans for any Chinese)."""
    code = (get_language() or "en").lower()
    if code.startswith("zh"):
        return Language.ZH_HANS
    return code if code in LANGUAGES else Language.EN


# The list


@staff_required
def articles(request):
    user = request.user
    _need(user, VIEW)
    editor = user.has_perm(EDIT)
    form = ArticleFilterForm(request.GET or None)
    filters = {}
    if form.is_bound:
        form.is_valid()  # wrong values are shown next to their filter and left out
        filters = {name: value for name, value in form.cleaned_data.items() if value}
    qs = with_current_version(_articles_for(user), published_only=not editor)
    qs = filter_articles(
        qs,
        topic=filters.get("topic", ""),
        status=filters.get("status", "") if editor else "",
        kind=filters.get("kind", ""),
        missing=filters.get("missing", "") if editor else "",
        text=filters.get("q", "").strip(),
    ).select_related("published_version")
    page = Paginator(qs.order_by("key"), PER_PAGE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    questions = questions_by_version(r.current_version_id for r in rows)
    language = _ui_language()
    for row in rows:
        by_language = questions.get(row.current_version_id, {})
        row.question = (
            by_language.get(language)
            or by_language.get(Language.EN)
            or next(iter(by_language.values()), "")
        )
        row.languages = [(code, code in by_language) for code in LANGUAGES]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "knowledge/articles.html",
        {
            "nav": "knowledge",
            "form": form,
            "page": page,
            "rows": rows,
            "editor": editor,
            "may_add": user.has_perm(ADD),
            "query": "",  # the desk's customer search box stays empty here
            "filter_query": query.urlencode(),
            "today": services.local_today(),
        },
    )


# One article


def _columns(version: ArticleVersion | None, texts: dict[int, dict[str, ArticleText]]):
    """The version's texts as (language, label, text or None) in the knowledge base's order."""
    if version is None:
        return []
    by_language = texts.get(version.pk, {})
    columns = []
    for code, label in Language.choices:
        text = by_language.get(code)
        if text is not None:
            text.keyword_lines = services.lines_of(text.keywords)
            text.notice_parts = [
                (part, services.lines_of((text.notice or {}).get(part))) for part in NOTICE_PARTS
            ]
        columns.append({"code": code, "label": label, "text": text, "rtl": code == Language.HE})
    return columns


def _label(choices, code: str) -> str:
    return str(choices(code).label) if code in choices.values else code


def _version_param(request, versions) -> ArticleVersion | None:
    value = request.GET.get("version")
    if not value:
        return None
    chosen = next((v for v in versions if str(v.number) == value.strip()), None)
    if chosen is None:
        messages.warning(
            request, _("version: there is no version %(value)s of this article.") % {"value": value}
        )
    return chosen


@staff_required
def article(request, pk):
    user = request.user
    _need(user, VIEW)
    editor = user.has_perm(EDIT)
    article = get_object_or_404(
        _articles_for(user).select_related("owner", "region", "published_version"), pk=pk
    )
    versions = list(
        visible_article_versions(user, article.versions.all())
        .select_related("created_by", "reviewed_by")
        .order_by("-number")
    )
    published = next((v for v in versions if v.pk == article.published_version_id), None)
    current = next((v for v in versions if v.status in services.OPEN_STATUSES), None)
    chosen = _version_param(request, versions) if editor else None
    if chosen is not None and chosen.pk in (
        getattr(published, "pk", None),
        getattr(current, "pk", None),
    ):
        chosen = None  # already on the page
    shown = [v for v in (published, current, chosen) if v is not None]
    texts: dict[int, dict[str, ArticleText]] = {}
    for text in ArticleText.objects.filter(version__in=shown):
        texts.setdefault(text.version_id, {})[text.language] = text
    # Why versions were sent back and why the article was retired: kept in the audit trail.
    reasons = {}
    for entry in AuditEntry.objects.filter(
        action="knowledge.sent_back",
        object_type=ArticleVersion._meta.label_lower,
        object_id__in=[str(v.pk) for v in versions],
    ).order_by("at"):
        reasons[int(entry.object_id)] = entry.data.get("reason", "")
    for version in versions:
        version.sent_back_reason = reasons.get(version.pk, "")
    retired = None
    if article.status == ArticleStatus.RETIRED:
        retired = (
            AuditEntry.objects.filter(
                action="knowledge.retired",
                object_type=article._meta.label_lower,
                object_id=str(article.pk),
            )
            .select_related("actor")
            .order_by("-at")
            .first()
        )
    today = services.local_today()
    valid_today = (article.valid_from is None or article.valid_from <= today) and (
        article.valid_to is None or today < article.valid_to
    )
    in_review = current is not None and current.status == VersionStatus.IN_REVIEW
    is_admin = services.is_administrator(user)
    context = {
        "nav": "knowledge",
        "article": article,
        "editor": editor,
        "versions": versions,
        "published": published,
        "published_columns": _columns(published, texts),
        "current": current if editor else None,
        "current_columns": _columns(current, texts) if editor else [],
        "chosen": chosen,
        "chosen_columns": _columns(chosen, texts),
        "retired": retired,
        "valid_today": valid_today,
        "for_agents": article.status == ArticleStatus.PUBLISHED
        and valid_today
        and article.profile in ("", get_utility().profile),
        "is_notice": article.kind == ArticleKind.NOTICE,
        "order_type_labels": [_label(OrderType, code) for code in article.order_types],
        "subtype_labels": [_label(Subtype, code) for code in article.subtypes],
        "may_edit": editor and not in_review,
        "may_submit": editor and current is not None and current.status == VersionStatus.DRAFT,
        "may_approve": editor and in_review and (current.created_by_id != user.pk or is_admin),
        "own_review": editor and in_review and current.created_by_id == user.pk and not is_admin,
        "may_send_back": editor and current is not None,
        "may_retire": editor and article.status != ArticleStatus.RETIRED,
        "validity_form": ValidityForm(
            initial={"valid_from": article.valid_from, "valid_to": article.valid_to}
        ),
    }
    return render(request, "knowledge/article.html", context)


# Writing


def _all_valid(*forms_) -> bool:
    """Validate every form (so each shows its errors), then say whether all passed."""
    results = [form.is_valid() for form in forms_]
    return all(results)


def _task_param(request) -> int | None:
    """``?task=N``: the correction task this version answers (a bad value is reported)."""
    value = request.GET.get("task", "").strip()
    if not value:
        return None
    if value.isdigit() and int(value) > 0:
        return int(value)
    messages.warning(
        request,
        _("task: %(value)s is not a correction task number; the version is written without one.")
        % {"value": value},
    )
    return None


@staff_required
def edit(request, pk):
    """A new version of the article's texts; the editor's own open draft is updated instead."""
    user = request.user
    _need(user, EDIT)
    article = get_object_or_404(visible_articles(user).select_related("published_version"), pk=pk)
    current = services.open_version(article)
    own_draft = (
        current
        if current and current.status == VersionStatus.DRAFT and current.created_by_id == user.pk
        else None
    )
    blocked = current is not None and own_draft is None
    base = own_draft or article.published_version or article.versions.order_by("-number").first()
    notice = article.kind == ArticleKind.NOTICE
    data = request.POST if request.method == "POST" else None
    forms_ = text_forms(data, notice=notice, initial=services.texts_of(base, article.kind))
    change_form = ChangeForm(
        data,
        initial={
            "change_note": own_draft.change_note if own_draft else "",
            "task": own_draft.correction_task_id if own_draft else None,
        },
    )
    if data is None:
        task = _task_param(request)
        if task:
            change_form.initial["task"] = task
    if data is not None and _all_valid(change_form, *forms_):
        try:
            version = services.edit_article(
                user,
                article,
                texts_from(forms_),
                change_form.cleaned_data["change_note"],
                correction_task_id=change_form.cleaned_data.get("task"),
            )
        except KnowledgeError as exc:
            error_to_forms(exc, text_forms_=forms_, other=change_form)
        else:
            messages.success(
                request,
                _("Version %(number)s is saved as a draft.") % {"number": version.number},
            )
            _then_submit(request, version)
            return redirect("desk:knowledge:article", pk=article.pk)
    return render(
        request,
        "knowledge/edit.html",
        {
            "nav": "knowledge",
            "article": article,
            "text_forms": forms_,
            "change_form": change_form,
            "base": base,
            "own_draft": own_draft,
            "blocked": current if blocked else None,
            "is_notice": notice,
        },
    )


def _then_submit(request, version) -> None:
    """ "Save and submit for review": the draft stays saved when the submission is refused."""
    if request.POST.get("then") != "submit":
        return
    try:
        services.submit_for_review(request.user, version)
    except KnowledgeError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("Version %(number)s is submitted for review.") % {"number": version.number}
        )


@staff_required
def new(request):
    """A new article: its details and the texts of version 1 (a draft)."""
    user = request.user
    _need(user, ADD)
    data = request.POST if request.method == "POST" else None
    form = NewArticleForm(data, initial={"profile": get_utility().profile})
    forms_ = text_forms(data, notice=True)
    if data is not None and _all_valid(form, *forms_):
        details = form.cleaned_data
        kind = details["kind"]
        texts = texts_from(forms_)
        if kind != ArticleKind.NOTICE:
            for text in texts.values():
                if not any(services.lines_of(v) for v in text.get("notice", {}).values()):
                    text.pop("notice", None)
        try:
            article = services.create_article(
                user,
                key=details["key"],
                topic=details["topic"],
                kind=kind,
                business_kind=details["business_kind"],
                order_types=details["order_types"],
                subtypes=details["subtypes"],
                profile=details["profile"],
                valid_from=details["valid_from"],
                valid_to=details["valid_to"],
                texts=texts,
                change_note=details["change_note"],
            )
        except KnowledgeError as exc:
            error_to_forms(exc, text_forms_=forms_, other=form)
        else:
            version = article.versions.get(number=1)
            messages.success(
                request, _("Article %(key)s is saved as a draft.") % {"key": article.key}
            )
            _then_submit(request, version)
            return redirect("desk:knowledge:article", pk=article.pk)
    return render(
        request,
        "knowledge/edit.html",
        {"nav": "knowledge", "form": form, "text_forms": forms_, "is_notice": True, "new": True},
    )


# Moving a version along


@staff_required
@require_POST
def transition(request, pk):
    """Submit, approve and publish, send back, retire, or set the validity dates."""
    user = request.user
    _need(user, EDIT)
    article = get_object_or_404(visible_articles(user), pk=pk)
    action = request.POST.get("action", "")
    try:
        done = _transition(user, article, action, request.POST)
    except KnowledgeError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("desk:knowledge:article", pk=article.pk)


def _version_of(article, value) -> ArticleVersion:
    version = article.versions.filter(number=value).first() if str(value).isdigit() else None
    if version is None:
        raise KnowledgeError(
            _("version: there is no version %(value)s of this article.") % {"value": value or "–"},
            "version",
        )
    return version


def _transition(user, article, action: str, post) -> str:
    """Do ``action``; the success message, or ``KnowledgeError``."""
    if action == "submit":
        version = services.submit_for_review(user, _version_of(article, post.get("version")))
        return _("Version %(number)s is submitted for review.") % {"number": version.number}
    if action == "approve":
        version = services.approve_and_publish(user, _version_of(article, post.get("version")))
        return _("Version %(number)s is published; agents read it now.") % {
            "number": version.number
        }
    if action == "send_back":
        version = services.send_back(
            user, _version_of(article, post.get("version")), post.get("reason", "")
        )
        return _("Version %(number)s is sent back to its author.") % {"number": version.number}
    if action == "retire":
        services.retire_article(user, article, post.get("reason", ""))
        return _("The article is retired: agents no longer see it.")
    if action == "validity":
        form = ValidityForm(post)
        if not form.is_valid():
            raise KnowledgeError(first_error(form))
        services.set_validity(
            user, article, form.cleaned_data["valid_from"], form.cleaned_data["valid_to"]
        )
        return _("The validity dates are saved.")
    raise KnowledgeError(
        _("action: choose submit, approve, send back, retire or validity."), "action"
    )
