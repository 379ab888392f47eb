"""The knowledge base's desk pages, included by ``desk.urls`` at /desk/knowledge/.

Names are ``desk:knowledge:<name>``.
"""

from django.urls import path

from . import notice_views, review_views, search_views, views

app_name = "knowledge"
urlpatterns = [
    path("", views.articles, name="articles"),
    path("new/", views.new, name="new"),
    path("<int:pk>/", views.article, name="article"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/transition/", views.transition, name="transition"),
    # Answer-quality review and correction tasks (review_views).
    path("reviews/", review_views.reviews_page, name="reviews"),
    path("reviews/orders/<int:pk>/", review_views.review_page, name="review"),
    path("reviews/corrections/", review_views.corrections_page, name="corrections"),
    # One-time notices: print and send (notice_views).
    path("notices/<slug:key>.pdf", notice_views.notice_pdf, name="notice_pdf"),
    path("notices/send/", notice_views.notice_send, name="notice_send"),
    # Answers suggested while the agent types a work order (search_views).
    path("suggest/", search_views.suggest, name="suggest"),
    path("<int:pk>/use/", search_views.use, name="use"),
]
