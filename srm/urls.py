from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView

from accountability.views import inbound as inbound_views
from kit.api import not_found
from operations import views as operations_views
from srm import views

# Version 1 of the API: each app's ``api/urls.py``, then a JSON 404 for anything else.
API_V1 = [
    path("", include("governance.api.urls")),
    path("", include("accountability.api.urls")),
    path("", include("requests_app.api.urls")),
    path("", include("approvals.api.urls")),
    path("", include("kpis.api.urls")),
    re_path(r"^(?P<unknown>[\s\S]*)$", not_found),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("portal/", include("requests_app.urls")),
    path("approvals/", include("approvals.urls")),
    path("work/", include("approvals.urls_work")),
    path("accounts/", include("governance.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    # Admin pages of the models that moved from governance to accountability (bookmarks).
    re_path(
        r"^admin/governance/(?P<rest>(?:changeplan|delayaccrual|delayrisk|figuresstamp|flowfigures"
        r"|handofffigures|importjob|itemtimefigures|legacyworkflow|notification|openworkfigures"
        r"|quarterfigures|weekfigures)/.*)$",
        RedirectView.as_view(url="/admin/accountability/%(rest)s", permanent=True, query_string=True),
    ),
    path("admin/", admin.site.urls),
    path("governance/", include("accountability.urls_plans")),
    path("governance/", include("governance.urls_org")),
    # Old monitors' address: the readiness check (database, broker, cache, migrations).
    path("healthz", operations_views.ready, name="healthz"),
    path("healthz/", include("operations.urls")),
    # Prometheus: only with SRM_METRICS_TOKEN set, and only for that bearer token.
    path("metrics", operations_views.metrics_view, name="metrics"),
    path("notifications/", include("accountability.notification_urls")),
    # Replies to approval e-mails a provider POSTs (docs/email-decisions.md).
    path("mail/inbound/mailgun/", inbound_views.mailgun_inbound, name="mail-inbound-mailgun"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI with its start-up script as a file of its own (?script), not inline: the CSP.
    path("api/docs/", views.api_docs, name="api-docs"),
    path("api/v1/", include(API_V1)),
    # SCIM 2.0 provisioning by the company's identity provider (docs/identity.md).
    path("scim/v2/", include("governance.scim.urls")),
    path("", include("requests_app.urls_conversation", namespace="conversation")),
    path("dashboard/", include("accountability.urls_dashboard")),
    path("reports/", include("accountability.urls_reports")),
    path("kpis/", include("kpis.urls")),
    path("help/", views.help_page, name="help"),
    path("language/", views.language_set, name="language"),
]

# Under /api/ the API's error body; elsewhere Django's pages, and a 500 page that does not
# pretend nothing was saved.
handler400 = "operations.views.bad_request"
handler403 = "operations.views.permission_denied"
handler404 = "operations.views.page_not_found"
handler500 = "operations.views.server_error"
