"""The API documentation: Swagger UI from drf-spectacular-sidecar, served by the platform itself.

The platform's Content-Security-Policy allows no inline script or style and nothing from another origin.
drf-spectacular's split view delivers Swagger UI's start script as a separate request (``?script``), and
our template moves the page's few style rules into a static file, so the documentation renders under the
unchanged policy: no CSP exemption is needed.
"""

from __future__ import annotations

from drf_spectacular.views import SpectacularSwaggerSplitView


class ApiDocsView(SpectacularSwaggerSplitView):
    template_name = "interfaces/swagger_ui.html"
    title = "iiz API"
