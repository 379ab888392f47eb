from django.urls import include, path

from . import views

app_name = "desk"
urlpatterns = [
    path("", views.home, name="home"),
    path("customers/<str:ref>/", views.customer, name="customer"),
    path("club/", include("voltdesk.keyaccounts.urls")),
    path("orders/", include("voltdesk.workorders.urls")),
]
