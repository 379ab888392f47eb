from django.contrib.auth import get_user_model
from django.core.management import BaseCommand, CommandError
from django.utils.translation import gettext as _

from voltdesk.core.profiles import PROFILES
from voltdesk.knowledge.services import KnowledgeError, load_articles


class Command(BaseCommand):
    help = (
        "Load knowledge-base articles from a JSON file (docs/knowledge.md): all or nothing. "
        "New keys become articles, changed texts new versions, the same texts change nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE.json")
        parser.add_argument(
            "--draft",
            action="store_true",
            help="leave new versions as drafts for the editors to review (default: publish)",
        )
        parser.add_argument(
            "--profile",
            choices=sorted(PROFILES),
            default=None,
            help="the profile of articles that do not name one (default: every utility)",
        )
        parser.add_argument(
            "--as", dest="username", metavar="USERNAME", help="the editor recorded as author"
        )

    def handle(self, *args, file, draft, profile, username, **options):
        actor = None
        if username:
            actor = get_user_model().objects.filter(username=username).first()
            if actor is None:
                raise CommandError(_("--as: there is no user %(name)s.") % {"name": username})
        try:
            result = load_articles(file, actor=actor, publish=not draft, profile=profile)
        except KnowledgeError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            _("Articles: %(created)s created, %(updated)s updated, %(unchanged)s unchanged.")
            % {
                "created": len(result.created),
                "updated": len(result.updated),
                "unchanged": len(result.unchanged),
            }
        )
        if result.skipped:
            self.stdout.write(
                _("Left retired (not overwritten): %(keys)s") % {"keys": ", ".join(result.skipped)}
            )
