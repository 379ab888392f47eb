from django.urls import path

from . import bills, club, views, workorders

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("sites/", views.sites, name="sites"),
    path("sites/<str:ref>/", views.site, name="site"),
    path("consumption/", views.consumption_by_site, name="consumption"),
    path("club/", club.club, name="club"),
    path("bills/", bills.bills, name="bills"),
    path("bills/<str:number>/", bills.bill, name="bill"),
    path("bills/<str:number>.pdf", bills.bill_pdf, name="bill_pdf"),
    path("orders/", workorders.orders, name="orders"),
    path("orders/<int:pk>/", workorders.order, name="order"),
    path("meetings/<int:pk>/invitation.ics", club.meeting_invitation, name="meeting_ics"),
    path("survey/<str:token>/", club.survey, name="survey"),
]
