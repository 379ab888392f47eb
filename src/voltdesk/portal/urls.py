from django.urls import path

from . import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("sites/", views.sites, name="sites"),
    path("sites/<str:ref>/", views.site, name="site"),
    path("consumption/", views.consumption_by_site, name="consumption"),
]
