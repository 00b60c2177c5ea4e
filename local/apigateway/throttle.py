"""The stage's throttle, as API Gateway applies it: a token bucket per route, one token a request.

AWS docs, "Protect your WebSocket APIs in API Gateway": requests are throttled with the token bucket
algorithm at the stage's (or route's) rate and burst limits; beyond them clients receive 429 Too
Many Requests. Without limits on the stage, the account's defaults apply (AWS docs, "Amazon API
Gateway quotas": 10,000 requests per second, burst 5,000).
"""

import time
from collections.abc import Callable

from local.template import ThrottleSpec

ACCOUNT_DEFAULT = ThrottleSpec(rate_limit=10_000, burst_limit=5_000)


class TokenBucket:
    def __init__(self, throttle: ThrottleSpec, *, clock: Callable[[], float] = time.monotonic):
        self._rate = throttle.rate_limit
        self._burst = throttle.burst_limit
        self._clock = clock
        self._tokens = float(self._burst)
        self._updated = clock()

    def take(self) -> bool:
        """One request: True when a token was there, False when the request is throttled."""
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._updated) * self._rate)
        self._updated = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


class StageThrottle:
    """One bucket per route key, with the route's own settings or the stage's default ones."""

    def __init__(self, default: ThrottleSpec | None, per_route: dict[str, ThrottleSpec]):
        self._default = default or ACCOUNT_DEFAULT
        self._per_route = per_route
        self._buckets: dict[str, TokenBucket] = {}

    def allows(self, route_key: str) -> bool:
        bucket = self._buckets.get(route_key)
        if bucket is None:
            bucket = self._buckets[route_key] = TokenBucket(self._per_route.get(route_key, self._default))
        return bucket.take()
