from django.urls import path

from governance import views_org

app_name = "organisation"

urlpatterns = [
    path("organisation/", views_org.organisation, name="page"),
]
