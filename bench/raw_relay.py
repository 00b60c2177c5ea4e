"""The floor any local pipeline sits on: a bare WebSocket relay speaking the chat's wire format.

No Lambda, no Step Functions: a connecting client gets ``{"type": "connection", "connection_id"}``,
and a ``sendMessage`` frame is answered with one ``message`` frame to the sender and one to each
recipient (``recipient_id``, or each of ``recipient_ids``), in the same process. Run as
``python bench/raw_relay.py``; prints ``ready <port>`` and serves on 127.0.0.1 until its standard input
closes.
"""

import asyncio
import json
import sys
import uuid

import websockets


async def serve() -> None:
    connections: dict[str, websockets.ServerConnection] = {}

    async def relay(socket: websockets.ServerConnection) -> None:
        connection_id = uuid.uuid4().hex[:16]
        connections[connection_id] = socket
        try:
            await socket.send(json.dumps({"type": "connection", "connection_id": connection_id}))
            async for raw in socket:
                request = json.loads(raw)
                recipients = request.get("recipient_ids") or [request["recipient_id"]]
                frame = json.dumps(
                    {
                        "type": "message",
                        "message_id": uuid.uuid4().hex,
                        "message": request["message"],
                        "sender_id": connection_id,
                        "recipient_id": recipients[0],
                    }
                )
                for target in dict.fromkeys([connection_id, *recipients]):  # the sender once, even as a recipient
                    if (client := connections.get(target)) is not None:
                        await client.send(frame)
        except websockets.ConnectionClosed:
            pass
        finally:
            connections.pop(connection_id, None)

    async with websockets.serve(relay, "127.0.0.1", 0, max_queue=None) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        print(f"ready {port}", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


if __name__ == "__main__":
    asyncio.run(serve())
