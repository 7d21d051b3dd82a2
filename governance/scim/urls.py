from django.urls import path, re_path

from governance.scim import views

app_name = "scim"

urlpatterns = [
    path("Users", views.users, name="users"),
    path("Users/.search", views.users_search, name="users-search"),
    path("Users/<str:pk>", views.user, name="user"),
    path("Groups", views.groups, name="groups"),
    path("Groups/.search", views.groups_search, name="groups-search"),
    path("Groups/<str:pk>", views.group, name="group"),
    path(".search", views.search, name="search"),
    path("ServiceProviderConfig", views.service_provider, name="service-provider-config"),
    path("ResourceTypes", views.resource_types, name="resource-types"),
    path("ResourceTypes/<str:pk>", views.resource_types, name="resource-type"),
    path("Schemas", views.schemas, name="schemas"),
    path("Schemas/<str:pk>", views.schemas, name="schema"),
    re_path(r"^(?P<rest>.*)$", views.unknown, name="unknown"),
]
