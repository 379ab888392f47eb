from django.urls import path

from . import (
    applications,
    appointments,
    bills,
    club,
    company,
    einvoices,
    packages,
    payments,
    reports,
    views,
    workorders,
)

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
    path("payments/", payments.payments_page, name="payments"),
    path("payments/online/<str:ref>/", payments.online_payment, name="online_payment"),
    path("pay/", payments.pay, name="pay"),
    # The export first: no later "reports/<...>" pattern may take "export.csv" for itself.
    path("reports/export.<str:fmt>", reports.export, name="report_export"),
    path("reports/", reports.report_page, name="reports"),
    path("orders/", workorders.orders, name="orders"),
    path("orders/<int:pk>/", workorders.order, name="order"),
    path("meetings/<int:pk>/invitation.ics", club.meeting_invitation, name="meeting_ics"),
    path("survey/<str:token>/", club.survey, name="survey"),
    path("company/users/", company.company_users, name="company_users"),
    path("company/users/<int:pk>/", company.company_user, name="company_user"),
]
# Residential self-service: each module holds its own patterns.
urlpatterns += [
    *packages.urlpatterns,
    *einvoices.urlpatterns,
    *appointments.urlpatterns,
    *applications.urlpatterns,
]
