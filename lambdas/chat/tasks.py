"""The inputs Step Functions hands to the task functions."""

from typing import Any

from pydantic import BaseModel, Field


class HandshakeTask(BaseModel):
    connection_id: str = Field(min_length=1)


class DeliveryTask(BaseModel):
    connection_id: str = Field(min_length=1)
    frame: dict[str, Any]
