from django.apps import AppConfig


class SteeringConfig(AppConfig):
    name = "iiz.steering"
