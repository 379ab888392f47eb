"""Excess-demand events at the desk, included by ``desk.urls`` at /desk/demand/.

Names are ``desk:demand:<name>``.
"""

from django.urls import path

from . import views

app_name = "demand"
urlpatterns = [
    path("", views.events, name="events"),
    path("<int:pk>/", views.event, name="event"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
    path("calls/", views.calls, name="calls"),
    path("calls/<int:pk>/", views.record, name="record_call"),
]
