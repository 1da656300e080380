from django.apps import AppConfig


class InterfacesConfig(AppConfig):
    name = "iiz.interfaces"
    verbose_name = "Schnittstellen"

    def ready(self) -> None:
        # Registers the OpenAPI description of the token authentication with drf-spectacular.
        from iiz.interfaces import schema  # noqa: F401
