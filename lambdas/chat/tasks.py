"""The input Step Functions hands to the task function."""

from pydantic import BaseModel, Field


class HandshakeTask(BaseModel):
    connection_id: str = Field(min_length=1)
