"""Excess-demand events at the desk, included by ``desk.urls`` at /desk/demand/.

Names are ``desk:demand:<name>``.
"""

from django.urls import path

from . import proposal_views, views

app_name = "demand"
urlpatterns = [
    path("", views.events, name="events"),
    path("<int:pk>/", views.event, name="event"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
    path("calls/", views.calls, name="calls"),
    path("calls/<int:pk>/", views.record, name="record_call"),
    path("proposals/", proposal_views.proposal_list, name="proposals"),
    path("proposals/<int:pk>/declare/", proposal_views.declare, name="declare_proposal"),
    path("proposals/<int:pk>/dismiss/", proposal_views.dismiss, name="dismiss_proposal"),
]
