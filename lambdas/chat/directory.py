"""The stage's users, as sendMessage checks the names in ``recipient_users`` before anything is sent.

A name is looked up first in the users table, which the connection_handshake workflow writes on every
signed-in connect (username key -> user id and name), then, for names not there, with Cognito's
AdminGetUser on the stage's pool: a user who exists but never connected is known (and offline), a name
Cognito does not know is an unknown user. The table alone would not do: users an administrator creates
(AdminCreateUser) never run a sign-up trigger, and a user who never connected is in no table.
"""

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from chat.users import User, username_key


@dataclass(frozen=True)
class Resolution:
    known: dict[str, User] = field(default_factory=dict)  # username key -> user
    unknown: list[str] = field(default_factory=list)  # names as sent


class Directory:
    def __init__(self, *, dynamodb: Any, cognito: Any, users_table: str, user_pool_id: str):
        self._dynamodb = dynamodb
        self._cognito = cognito
        self._users_table = users_table
        self._user_pool_id = user_pool_id

    def resolve(self, names: Iterable[str]) -> Resolution:
        """Each name's user, or the name among the unknown; raises botocore's errors when a lookup fails."""
        names = list(names)
        known = self._from_table({username_key(name) for name in names})
        missing = [name for name in names if username_key(name) not in known]
        if missing:
            with ThreadPoolExecutor(max_workers=len(missing)) as pool:  # at most MAX_RECIPIENTS at once
                for name, user in zip(missing, pool.map(self._from_cognito, missing), strict=True):
                    if user is not None:
                        known[username_key(name)] = user
        return Resolution(known=known, unknown=[name for name in names if username_key(name) not in known])

    def _from_table(self, keys: set[str]) -> dict[str, User]:
        """One BatchGetItem: it reads up to 100 keys, and sendMessage names at most 20 users."""
        if not keys:
            return {}
        request = {self._users_table: {"Keys": [{"username": {"S": key}} for key in sorted(keys)]}}
        response = self._dynamodb.batch_get_item(RequestItems=request)
        # Keys DynamoDB left unprocessed (throttled) are simply asked of Cognito, which knows every user.
        return {
            item["username"]["S"]: User(id=item["user_id"]["S"], name=item["name"]["S"])
            for item in response.get("Responses", {}).get(self._users_table, [])
        }

    def _from_cognito(self, name: str) -> User | None:
        try:
            found = self._cognito.admin_get_user(UserPoolId=self._user_pool_id, Username=name)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "UserNotFoundException":
                return None
            raise
        attributes = {attribute["Name"]: attribute["Value"] for attribute in found.get("UserAttributes", [])}
        return User(id=attributes.get("sub", ""), name=found["Username"])
