from django.urls import path

from requests_app import views

app_name = "portal"

urlpatterns = [
    path("", views.catalog, name="catalog"),
    path("new/<slug:item_code>/", views.submit, name="submit"),
    path("requests/", views.my_requests, name="my_requests"),
    path("search/", views.search, name="search"),
    path("requests/<str:reference>/", views.request_detail, name="request_detail"),
    path("requests/<str:reference>/cancel/", views.cancel, name="cancel"),
]
