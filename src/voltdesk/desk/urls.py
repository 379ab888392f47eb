from django.urls import include, path

from . import bills, views

app_name = "desk"
urlpatterns = [
    path("", views.home, name="home"),
    path("customers/<str:ref>/", views.customer, name="customer"),
    path("customers/<str:ref>/bills/<str:number>/", bills.bill, name="bill"),
    path("customers/<str:ref>/bills/<str:number>.pdf", bills.bill_pdf, name="bill_pdf"),
    path(
        "customers/<str:ref>/bills/<str:number>/e-invoice.pdf",
        bills.bill_einvoice_pdf,
        name="bill_einvoice_pdf",
    ),
    path("club/", include("voltdesk.keyaccounts.urls")),
    path("orders/", include("voltdesk.workorders.urls")),
    path("knowledge/", include("voltdesk.knowledge.urls")),
    path("analytics/", include("voltdesk.analytics.urls")),
    path("halls/", include("voltdesk.appointments.urls")),
    path("demand/", include("voltdesk.demand.urls")),
]
