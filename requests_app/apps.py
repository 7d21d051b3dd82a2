from django.apps import AppConfig


class RequestsAppConfig(AppConfig):
    name = "requests_app"
    verbose_name = "Service requests"

    def ready(self) -> None:
        from requests_app.choices import OPEN_STATES
        from requests_app.models import ServiceRequest
        from srm.navigation import NAV, NavEntry

        NAV.append(NavEntry(label="New request", url_name="portal:catalog", order=0))
        NAV.append(NavEntry(
            label="My requests",
            url_name="portal:my_requests",
            count=lambda user: ServiceRequest.objects.filter(
                requester=user, state__in=OPEN_STATES
            ),
            count_label="open",
            order=10,
        ))
