"""The stage's token buckets and the fair turns at a function's workers, on their own."""

import asyncio

from local.apigateway.throttle import StageThrottle, TokenBucket
from local.apigateway.turns import FairTurns
from local.template import ThrottleSpec


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_the_burst_then_the_rate():
    clock = Clock()
    bucket = TokenBucket(ThrottleSpec(rate_limit=10, burst_limit=5), clock=clock)
    assert [bucket.take() for _ in range(6)] == [True] * 5 + [False]
    clock.now = 0.35  # 3.5 tokens back
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    clock.now = 100  # never more than the burst
    assert sum(bucket.take() for _ in range(10)) == 5


def test_each_route_has_its_own_bucket_and_unset_limits_are_the_accounts():
    throttle = StageThrottle(ThrottleSpec(1, 2), {"send": ThrottleSpec(1, 1)}, clock=Clock())
    assert [throttle.allows("send", f"client {n}") for n in range(2)] == [True, False]
    assert [throttle.allows("$default", f"client {n}") for n in range(3)] == [True, True, False]
    unset = StageThrottle(None, {}, clock=Clock())
    assert all(unset.allows("$default", f"client {n}") for n in range(5000))


def test_turns_go_round_robin_across_connections():
    async def scenario():
        turns = FairTurns(1)
        order = []

        async def frame(key: str, number: int):
            async with turns.turn(key):
                order.append(f"{key}{number}")
                await asyncio.sleep(0)

        flood = [asyncio.create_task(frame("a", number)) for number in range(4)]
        await asyncio.sleep(0)
        others = [asyncio.create_task(frame(key, 0)) for key in "bc"]
        await asyncio.gather(*flood, *others)
        return order

    order = asyncio.run(scenario())
    assert order[:4] == ["a0", "a1", "b0", "c0"]


def test_a_cancelled_waiter_gives_up_its_place():
    async def scenario():
        turns = FairTurns(1)
        release = asyncio.Event()

        async def hold():
            async with turns.turn("a"):
                await release.wait()

        holder = asyncio.create_task(hold())
        await asyncio.sleep(0)
        waiter = asyncio.create_task(hold())
        await asyncio.sleep(0)
        waiter.cancel()
        release.set()
        await holder
        async with asyncio.timeout(1), turns.turn("b"):
            return True

    assert asyncio.run(scenario())


def test_a_client_flooding_the_stage_leaves_tokens_for_light_clients():
    """The stage's bucket is shared, as on AWS; a client throttled within the last second may not take
    its last fifth, so a client sending little is not starved by one sending much."""
    clock = Clock()
    throttle = StageThrottle(ThrottleSpec(rate_limit=50, burst_limit=100), {}, clock=clock)
    flood_admitted = light_admitted = 0
    for tick in range(1, 301):  # 3 s in steps of 10 ms: five flooders send 20 frames a step
        clock.now = tick / 100
        flood_admitted += sum(throttle.allows("send", f"flooder {n % 5}") for n in range(20))
        if tick % 20 == 0:  # the light client: 5 frames a second
            light_admitted += throttle.allows("send", "light")
    assert light_admitted == 15
    assert flood_admitted + light_admitted <= 100 + 50 * 3  # the stage's total stays the bucket's
