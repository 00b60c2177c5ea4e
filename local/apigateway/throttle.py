"""The stage's throttle, as API Gateway applies it: a token bucket per route, one token a request.

AWS docs, "Protect your WebSocket APIs in API Gateway": requests are throttled with the token bucket
algorithm at the stage's (or route's) rate and burst limits; beyond them clients receive 429 Too
Many Requests. Without limits on the stage, the account's defaults apply (AWS docs, "Amazon API
Gateway quotas": 10,000 requests per second, burst 5,000).

The bucket is the stage's, shared by every client, as on AWS, with one local addition: a client
throttled within the last second may not take the last fifth of the bucket, which stays for clients
sending little. The stage admits no more than AWS would; one
flooding client just cannot take every token (a developer's other tabs keep working).
"""

import time
from collections.abc import Callable

from local.template import ThrottleSpec

ACCOUNT_DEFAULT = ThrottleSpec(rate_limit=10_000, burst_limit=5_000)
RESERVED_FOR_LIGHT_CLIENTS = 0.2  # of the burst: what a client throttled lately may not take
HEAVY_FOR_SECONDS = 1.0
MAX_REMEMBERED = 10_000


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
        self._throttled_at: dict[tuple[str, str], float] = {}  # (route key, client) -> last throttled

    def allows(self, route_key: str, client: str) -> bool:
        settings = self._per_route.get(route_key, self._default)
        bucket = self._buckets.get(route_key)
        if bucket is None:
            bucket = self._buckets[route_key] = TokenBucket(settings, clock=self._clock)
        now = self._clock()
        key = (route_key, client)
        flooding = now - self._throttled_at.get(key, -HEAVY_FOR_SECONDS) < HEAVY_FOR_SECONDS
        if bucket.take(leaving=settings.burst_limit * RESERVED_FOR_LIGHT_CLIENTS if flooding else 0):
            return True
        if len(self._throttled_at) > MAX_REMEMBERED:  # forget clients not throttled lately
            self._throttled_at = {k: at for k, at in self._throttled_at.items() if now - at < HEAVY_FOR_SECONDS}
        self._throttled_at[key] = now
        return False
