"""Presence end to end on the sign-in stage (dev), served by the real local runtime: two users who share a room
(seeded as joinRoom writes memberships), one connected; the other's first connection is announced once, their second
device not at all, and their last connection closing once."""

import asyncio
import contextlib

from tests.e2e.test_sign_in import new_user, receive, signed_in, state_of, token_of

QUIET_SECONDS = 2  # long enough for a workflow that should not announce anything to have done so here


def test_a_room_mate_is_told_once_when_a_user_comes_online_and_once_when_they_leave(signed_in_runtime):
    alice, bob = new_user(signed_in_runtime, "alice"), new_user(signed_in_runtime, "bob")
    state = state_of(signed_in_runtime)
    dynamodb = signed_in_runtime.aws_client("dynamodb", state.stepfunctions_url)
    for name in (alice, bob):
        dynamodb.put_item(
            TableName=state.tables["memberships"], Item={"room": {"S": "lobby"}, "username": {"S": name.lower()}}
        )
    alice_token, bob_token = token_of(signed_in_runtime, alice), token_of(signed_in_runtime, bob)

    async def story() -> tuple[list[dict], dict]:
        watcher, _ = await signed_in(signed_in_runtime, alice_token)
        laptop, connection = await signed_in(signed_in_runtime, bob_token)
        told = [await receive(watcher)]
        phone, _ = await signed_in(signed_in_runtime, bob_token)
        await asyncio.sleep(QUIET_SECONDS)
        await laptop.close()
        await asyncio.sleep(QUIET_SECONDS)
        await phone.close()
        told.append(await receive(watcher))
        with contextlib.suppress(TimeoutError):  # nothing more: the test is that nothing comes
            told.append(await receive(watcher, QUIET_SECONDS))
        await watcher.close()
        return told, connection["user"]

    told, bob_user = asyncio.run(story())

    assert [(frame["type"], frame["user"], frame["online"]) for frame in told] == [
        ("presence", bob_user, True),
        ("presence", bob_user, False),
    ]
    assert told[0]["version"] < told[1]["version"]
