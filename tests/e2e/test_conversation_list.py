"""listConversations end to end on the local runtime: a user who was offline while messages came learns, when they
connect, which conversations moved past what they hold (`last_sent_key`), and reads what they missed from history;
a stage without sign-in has no users to list conversations of."""

import asyncio
import json

import websockets

from tests.e2e.test_sign_in import new_user, receive, receive_type, signed_in, token_of
from tests.protocol import client_frame


def test_a_user_back_from_offline_is_listed_the_conversations_that_moved_and_reads_what_they_missed(signed_in_runtime):
    alice, bob = new_user(signed_in_runtime, "alice"), new_user(signed_in_runtime, "bob")
    alice_token, bob_token = token_of(signed_in_runtime, alice), token_of(signed_in_runtime, bob)

    async def scenario():
        sender, _ = await signed_in(signed_in_runtime, alice_token)
        sent = []
        for text in ("first while away", "second while away"):
            await sender.send(
                json.dumps(client_frame({"action": "sendMessage", "message": text, "recipient_users": [bob]}))
            )
            sent.append(await receive_type(sender, "message"))  # the sender's own copy: stored by now
        await sender.close()
        reader, _ = await signed_in(signed_in_runtime, bob_token)
        await reader.send(json.dumps(client_frame({"action": "listConversations"})))
        # The route response and the workflow's post race: either may come first.
        answers = {}
        while len(answers) < 2:
            frame = await receive(reader)
            if frame["type"] in ("listConversations_requested", "conversations"):
                answers[frame["type"]] = frame
        requested, listed = answers["listConversations_requested"], answers["conversations"]
        await reader.send(json.dumps(client_frame({"action": "history", "with": listed["conversations"][0]["with"]})))
        page = await receive_type(reader, "history")
        await reader.close()
        return sent, requested, listed, page

    sent, requested, listed, page = asyncio.run(scenario())
    assert requested == {"type": "listConversations_requested"}
    newest = sent[-1]
    assert listed == {
        "type": "conversations",
        "conversations": [{"with": alice, "last_sent_key": f"{newest['sent_at']}#{newest['message_id']}"}],
        "more": False,
    }
    assert [message["message_id"] for message in page["messages"]] == [sent[1]["message_id"], sent[0]["message_id"]]


def test_on_a_stage_without_sign_in_there_are_no_conversations_to_list(local_runtime):
    async def scenario():
        async with websockets.connect(local_runtime.ws_url, open_timeout=60) as client:
            await receive_type(client, "connection")
            await client.send(json.dumps(client_frame({"action": "listConversations"})))
            return await receive_type(client, "error")

    refused = asyncio.run(scenario())
    assert refused["code"] == "no_users"
