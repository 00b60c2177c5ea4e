"""API Gateway, locally: the stage's WebSocket API and its @connections management API."""
