"""The input Step Functions hands to the task function: connection_handshake's input (on_connect.py), whole."""

from pydantic import BaseModel, Field

from chat.users import User


class HandshakeUser(BaseModel):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)


class HandshakeTask(BaseModel):
    connection_id: str = Field(min_length=1)
    user: HandshakeUser | None = None  # on a stage with sign-in

    @property
    def signed_in_user(self) -> User | None:
        return User(id=self.user.id, name=self.user.name) if self.user else None
