from django.contrib.auth import views as auth_views
from django.urls import path

from voltdesk.knowledge import notice_views

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The one-time link to set a password (a company's new user, a new link).
    path(
        "reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("language/", views.choose_language, name="choose_language"),
    # A one-time notice sent by SMS or e-mail: the signed token is the credential.
    path("notice/<str:token>.pdf", notice_views.public_notice_pdf, name="notice_pdf_public"),
]
