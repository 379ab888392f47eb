"""Apply the language a signed-in user chose, over the browser's and the cookie's."""

from django.utils import translation


class UserLanguageMiddleware:
    """Runs after authentication; LocaleMiddleware has already picked a default."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated:
            profile = getattr(user, "profile", None)
            if profile is not None and profile.language:
                translation.activate(profile.language)
                request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)
