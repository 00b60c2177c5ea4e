"""The inputs Step Functions hands to the task functions: connection_handshake's (on_connect.py), whole, and
history_page's page of stored messages."""

from pydantic import BaseModel, Field, model_validator

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


class StoredMessage(BaseModel):
    """A history item as the query's ResultSelector hands it over (attribute values unwrapped)."""

    sent_key: str = Field(min_length=1)
    frame: str = Field(min_length=2)


class HistoryPage(BaseModel):
    """history_page's PackHistory task: whose conversation (the other user's, or the room's), the page read (newest
    first), the limit asked."""

    connection_id: str = Field(min_length=1)
    with_user: str | None = Field(default=None, alias="with", min_length=1)
    room: str | None = Field(default=None, min_length=1)
    limit: int = Field(ge=1)
    items: list[StoredMessage]

    @model_validator(mode="after")
    def _one_conversation(self) -> "HistoryPage":
        if (self.with_user is None) == (self.room is None):
            raise ValueError("a page is of one conversation: with or room")
        return self
