"""moto's Flask application for each service, as its server builds it, without a debug-mode helper that built a class
per request.

moto turns Flask's debug mode on for every service's application (``create_backend_app``). In debug mode Flask's
request, whenever it reads a body that is not a multipart form (every JSON call: each DynamoDB task of a workflow,
each Cognito call), wraps ``request.files`` in a subclass created on the spot, only to word a KeyError for a file
field better. Creating a class is slow: it took 7 to 8 % of the Step Functions process's CPU under a stream of
connects (py-spy --gil, bench/local_runtime.py). Requests here read the body as werkzeug does and nothing else
changes: debug mode stays on, so an exception still propagates exactly as before.
"""

from moto.moto_server.werkzeug_app import BackendRequest, create_backend_app
from werkzeug.wrappers import Request as WerkzeugRequest


class FormDataAsWerkzeugReadsIt(BackendRequest):
    """moto's request class; its body and form read by werkzeug, without Flask's debug-mode ``files`` wrapper."""

    def _load_form_data(self) -> None:
        WerkzeugRequest._load_form_data(self)


def backend_app(service: str):
    """moto's application for ``service`` (what ``DomainDispatcherApplication`` builds per service)."""
    app = create_backend_app(service)
    app.request_class = FormDataAsWerkzeugReadsIt
    return app
