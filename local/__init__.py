"""Local runtime: serves a synthesized chat stack on loopback (WebSocket gateway, Lambda, Step Functions)."""
