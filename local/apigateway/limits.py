"""API Gateway's WebSocket quotas (AWS docs, "API Gateway quotas for WebSocket APIs")."""

from dataclasses import dataclass

MAX_MESSAGE_BYTES = 128 * 1024
IDLE_TIMEOUT_SECONDS = 10 * 60
MAX_CONNECTION_SECONDS = 2 * 60 * 60
INTEGRATION_TIMEOUT_SECONDS = 29  # how long API Gateway waits for an integration


# Not AWS quotas: what one laptop process can hold (each connection is an open file) and run. Room for
# a thousand idle clients and fresh ones beside them (what bench/local_runtime.py's idle figure holds).
DEFAULT_MAX_CONNECTIONS = 2000
DEFAULT_ROUTE_CONCURRENCY = 4
# TCP connections beyond the WebSocket cap kept for the runtime's own HTTP traffic (local.apigateway.listener).
TCP_HEADROOM = 256


@dataclass
class GatewayLimits:
    """The connection timeouts, shortened by tests and by `serve --idle-timeout/--max-lifetime`;
    the connection cap (`serve --max-connections`); how many frames one function is given at once
    (its warm workers, `serve --workers`)."""

    idle_timeout_seconds: float = IDLE_TIMEOUT_SECONDS
    max_connection_seconds: float = MAX_CONNECTION_SECONDS
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    route_concurrency: int = DEFAULT_ROUTE_CONCURRENCY
    stage_throttle: bool = True  # off (`serve --no-throttle`) to measure the runtime's own capacity
