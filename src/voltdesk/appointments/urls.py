"""Service-hall bookings and online applications at the desk, at /desk/halls/.

Names are ``desk:appointments:<name>``.
"""

from . import desk_views

app_name = "appointments"
urlpatterns = [*desk_views.urlpatterns]
