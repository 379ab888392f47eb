"""Forms of the editors' pages: they parse input; the rules live in ``knowledge.services``."""

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from voltdesk.core.choices import Language
from voltdesk.core.profiles import PROFILES
from voltdesk.workorders.choices import OrderType, Subtype

from .choices import ArticleKind, ArticleStatus, Topic
from .queries import AWAITING_REVIEW
from .services import LANGUAGES, NOTICE_PARTS, KnowledgeError

TEXTAREA = {"class": "form-control form-control-sm", "dir": "auto"}
DATE = forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"})


def _textarea(rows: int) -> forms.Textarea:
    return forms.Textarea(attrs={**TEXTAREA, "rows": rows})


class ArticleFilterForm(forms.Form):
    """The list's filters; a wrong value is reported and that filter left out."""

    q = forms.CharField(label=gettext_lazy("Key or question"), required=False, max_length=200)
    topic = forms.ChoiceField(label=gettext_lazy("Topic"), required=False)
    status = forms.ChoiceField(label=gettext_lazy("Status"), required=False)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), required=False)
    missing = forms.ChoiceField(label=gettext_lazy("Languages"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["topic"].choices = [("", _("All topics")), *Topic.choices]
        self.fields["status"].choices = [
            ("", _("Any status")),
            *ArticleStatus.choices,
            (AWAITING_REVIEW, _("A version awaits review")),
        ]
        self.fields["kind"].choices = [("", _("Answers and notices")), *ArticleKind.choices]
        self.fields["missing"].choices = [("", _("Any languages"))] + [
            (code, _("Missing %(language)s") % {"language": label})
            for code, label in Language.choices
        ]


class TextForm(forms.Form):
    """One language's text of a version; both question and answer, or neither."""

    question = forms.CharField(
        label=gettext_lazy("Question, as a caller asks it"),
        required=False,
        max_length=500,
        widget=_textarea(2),
    )
    answer = forms.CharField(
        label=gettext_lazy("Unified answer"),
        required=False,
        widget=_textarea(6),
        help_text=gettext_lazy(
            "What the agent reads out: concrete numbers, time limits, where to go."
        ),
    )
    keywords = forms.CharField(
        label=gettext_lazy("How callers say it"),
        required=False,
        widget=_textarea(3),
        help_text=gettext_lazy("One phrasing per line."),
    )

    def __init__(self, *args, language: str, notice: bool = False, **kwargs):
        super().__init__(*args, prefix=language, **kwargs)
        self.language = language
        self.label = Language(language).label
        self.notice = notice
        if notice:
            labels = {
                "documents": _("Documents to bring"),
                "fees": _("Fees"),
                "steps": _("Steps"),
                "time_limits": _("Time limits"),
            }
            for part in NOTICE_PARTS:
                self.fields[part] = forms.CharField(
                    label=labels[part],
                    required=False,
                    widget=_textarea(3),
                    help_text=_("One per line."),
                )

    def clean(self):
        data = super().clean()
        question, answer = data.get("question", "").strip(), data.get("answer", "").strip()
        others = any(
            data.get(name, "").strip() for name in self.fields if name not in ("question", "answer")
        )
        if (question or answer or others) and not question:
            self.add_error("question", _("Write the question, or leave this language empty."))
        if (question or answer or others) and not answer:
            self.add_error("answer", _("Write the answer, or leave this language empty."))
        return data

    def text(self) -> dict | None:
        """The text for ``services`` (None when the language is left empty)."""
        data = self.cleaned_data
        if not data.get("question", "").strip() and not data.get("answer", "").strip():
            return None
        text = {
            "question": data["question"],
            "answer": data["answer"],
            "keywords": data["keywords"],
        }
        if self.notice:
            text["notice"] = {part: data.get(part, "") for part in NOTICE_PARTS}
        return text


def text_forms(data=None, *, notice: bool, initial: dict | None = None) -> list[TextForm]:
    """One form per language, filled from ``initial`` ({language: stored text}) when given."""
    initial = initial or {}
    forms_ = []
    for code in LANGUAGES:
        text = initial.get(code)
        values = None
        if text is not None:
            values = {
                "question": text["question"],
                "answer": text["answer"],
                "keywords": "\n".join(text["keywords"]),
                **{part: "\n".join(text["notice"].get(part, [])) for part in NOTICE_PARTS},
            }
        forms_.append(TextForm(data, language=code, notice=notice, initial=values))
    return forms_


def texts_from(forms_: list[TextForm]) -> dict:
    return {f.language: text for f in forms_ if (text := f.text()) is not None}


class ChangeForm(forms.Form):
    change_note = forms.CharField(
        label=gettext_lazy("What changed and why"),
        max_length=2000,
        widget=_textarea(2),
    )
    task = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)


class NewArticleForm(forms.Form):
    key = forms.SlugField(
        label=gettext_lazy("Key"),
        max_length=100,
        help_text=gettext_lazy("Unique, with the profile first: il-bill-estimated-reading."),
        widget=forms.TextInput(attrs={"class": "form-control form-control-sm", "dir": "ltr"}),
    )
    topic = forms.ChoiceField(
        label=gettext_lazy("Topic"),
        choices=Topic.choices,
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        choices=ArticleKind.choices,
        initial=ArticleKind.ANSWER,
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
        help_text=gettext_lazy(
            "A one-time notice also lists documents, fees, steps and time limits."
        ),
    )
    business_kind = forms.CharField(
        label=gettext_lazy("Kind of business"),
        max_length=40,
        required=False,
        help_text=gettext_lazy("For a notice: new_connection, change_of_use, meter_test, ..."),
        widget=forms.TextInput(attrs={"class": "form-control form-control-sm", "dir": "ltr"}),
    )
    order_types = forms.MultipleChoiceField(
        label=gettext_lazy("Work-order types"),
        choices=OrderType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    subtypes = forms.MultipleChoiceField(
        label=gettext_lazy("Work-order subtypes"),
        choices=Subtype.choices,
        required=False,
        widget=forms.SelectMultiple(attrs={"class": "form-select form-select-sm", "size": 6}),
    )
    profile = forms.ChoiceField(
        label=gettext_lazy("Profile"),
        required=False,
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    valid_from = forms.DateField(label=gettext_lazy("Valid from"), required=False, widget=DATE)
    valid_to = forms.DateField(
        label=gettext_lazy("Valid until (not included)"), required=False, widget=DATE
    )
    change_note = forms.CharField(
        label=gettext_lazy("Note"), max_length=2000, required=False, widget=_textarea(2)
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["profile"].choices = [("", _("Every utility"))] + [
            (code, code) for code in PROFILES
        ]


class ValidityForm(forms.Form):
    valid_from = forms.DateField(label=gettext_lazy("Valid from"), required=False, widget=DATE)
    valid_to = forms.DateField(
        label=gettext_lazy("Valid until (not included)"), required=False, widget=DATE
    )


def error_to_forms(exc: KnowledgeError, *, text_forms_: list[TextForm], other: forms.Form):
    """A service refusal shown next to the field it names (``texts.he.answer``), else on top."""
    parts = exc.field.split(".") if exc.field else []
    if len(parts) >= 2 and parts[0] == "texts":
        for form in text_forms_:
            if form.language == parts[1]:
                name = parts[2] if len(parts) > 2 else None
                form.add_error(name if name in form.fields else None, exc.message)
                return
    other.add_error(exc.field if exc.field in other.fields else None, exc.message)


def first_error(form: forms.Form) -> str:
    """'Label: message' of a form's first error, for a refusal shown as a message."""
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        return f"{label}: {errors[0]}" if label else errors[0]
    return ""
