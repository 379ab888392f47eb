"""The work-order desk, included by ``desk.urls`` at /desk/orders/ (``desk:orders:<name>``)."""

from django.urls import path

from . import views

app_name = "orders"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("new/", views.intake, name="new"),
    path("dispatch/", views.dispatch_board, name="dispatch"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/files/<int:file_pk>/", views.attachment, name="attachment"),
    path("incidents/<int:pk>/power-back/", views.power_back, name="power_back"),
]
