"""The stage's throttle, as API Gateway applies it: a token bucket per route, one token a request.

AWS docs, "Protect your WebSocket APIs in API Gateway": requests are throttled with the token bucket
algorithm at the stage's (or route's) rate and burst limits; beyond them clients receive 429 Too
Many Requests. Without limits on the stage, the account's defaults apply (AWS docs, "Amazon API
Gateway quotas": 10,000 requests per second, burst 5,000).

The bucket is the stage's, shared by every client, as on AWS, with one local addition: a client
that has taken more than its fair share of this second's tokens may not take the last fifth of the
bucket, which stays for clients sending little. The stage admits no more than AWS would; one
flooding client just cannot take every token (a developer's other tabs keep working).
"""

import time
from collections.abc import Callable

from local.template import ThrottleSpec

ACCOUNT_DEFAULT = ThrottleSpec(rate_limit=10_000, burst_limit=5_000)
RESERVED_FOR_LIGHT_CLIENTS = 0.2  # of the burst: what a client over its fair share may not take


class TokenBucket:
    def __init__(self, throttle: ThrottleSpec, *, clock: Callable[[], float] = time.monotonic):
        self._rate = throttle.rate_limit
        self._burst = throttle.burst_limit
        self._clock = clock
        self._tokens = float(self._burst)
        self._updated = clock()

    def take(self, *, leaving: float = 0) -> bool:
        """One request: True when a token was there (with `leaving` tokens left after it), False when
        the request is throttled."""
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._updated) * self._rate)
        self._updated = now
        if self._tokens < 1 + leaving:
            return False
        self._tokens -= 1
        return True


class StageThrottle:
    """One bucket per route key, with the route's own settings or the stage's default ones."""

    def __init__(
        self,
        default: ThrottleSpec | None,
        per_route: dict[str, ThrottleSpec],
        *,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._default = default or ACCOUNT_DEFAULT
        self._per_route = per_route
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}
        self._second = 0
        self._taken: dict[tuple[str, str], int] = {}  # (route key, client) -> tokens taken this second
        self._clients: dict[str, int] = {}  # route key -> clients that took a token this second

    def allows(self, route_key: str, client: str) -> bool:
        settings = self._per_route.get(route_key, self._default)
        bucket = self._buckets.get(route_key)
        if bucket is None:
            bucket = self._buckets[route_key] = TokenBucket(settings, clock=self._clock)
        second = int(self._clock())
        if second != self._second:
            self._second, self._taken, self._clients = second, {}, {}
        key = (route_key, client)
        taken = self._taken.get(key, 0)
        clients = self._clients.get(route_key, 0) + (taken == 0)
        over_share = taken >= settings.rate_limit / clients
        if not bucket.take(leaving=settings.burst_limit * RESERVED_FOR_LIGHT_CLIENTS if over_share else 0):
            return False
        if taken == 0:
            self._clients[route_key] = clients
        self._taken[key] = taken + 1
        return True
