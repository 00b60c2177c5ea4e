"""The smoke test of a chat stage: ``python -m smoke wss://…/<stage>`` (needs only ``websockets``)."""
