"""Work-order analytics' desk pages, included by ``desk.urls`` at /desk/analytics/.

Names are ``desk:analytics:<name>``; each concept's views module holds its own
patterns.
"""

from . import classifier_views, dashboard_views, rootcause_views, staffing_views

app_name = "analytics"
urlpatterns = [
    *dashboard_views.urlpatterns,
    *rootcause_views.urlpatterns,
    *staffing_views.urlpatterns,
    *classifier_views.urlpatterns,
]
