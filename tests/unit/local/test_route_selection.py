"""Route selection like API Gateway: the expression's value names the route, else $default."""

import json

import pytest

from local.apigateway.routing import RouteSelector
from local.template_errors import UnsupportedTemplate

ROUTES = {"sendMessage", "$default", "$connect"}


@pytest.mark.parametrize(
    ("body", "route"),
    [
        (json.dumps({"action": "sendMessage"}), "sendMessage"),
        (json.dumps({"action": "dance"}), "$default"),
        (json.dumps({"message": "no action"}), "$default"),
        (json.dumps({"action": 42}), "$default"),
        (json.dumps(["action"]), "$default"),
        ("not json", "$default"),
        ("", "$default"),
    ],
)
def test_action_field_selects_the_route(body, route):
    assert RouteSelector("$request.body.action", ROUTES).select(body) == route


def test_nested_paths_and_braced_expressions():
    selector = RouteSelector("${request.body.meta.kind}", ROUTES)
    assert selector.select(json.dumps({"meta": {"kind": "sendMessage"}})) == "sendMessage"


def test_unsupported_expression_is_a_clear_error():
    with pytest.raises(UnsupportedTemplate, match="route selection expression"):
        RouteSelector("$request.header.x", ROUTES)
