"""The club's desk pages, included by ``desk.urls`` at /desk/club/ (``desk:club:<name>``)."""

from django.urls import path

from . import views

app_name = "club"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("evaluate/", views.evaluate, name="evaluate"),
    path("reassign/", views.reassign, name="reassign"),
    path("mine/", views.my_members, name="my_members"),
    path("tasks/<int:pk>/done/", views.task_done, name="task_done"),
    path("meetings/<int:pk>/", views.meeting, name="meeting"),
    path("meetings/<int:pk>/invitation.ics", views.meeting_invitation, name="meeting_ics"),
]
