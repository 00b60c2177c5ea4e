"""DynamoDB transactions all or nothing under concurrency, as DynamoDB's are (DynamoDB developer guide, "Amazon
DynamoDB Transactions: How it works": transactions are serializable with every other write and with GetItem and
Query). The room workflows rely on it: two joins racing for a room's last place must not both get in, and a
cancelled join must not undo anything else.

moto 5.2.5 runs each request of its server on a thread of its own, and its ``transact_write_items`` is not
isolated: it deep-copies every table it touches, applies the items one by one, and on a failed condition puts
the copies back, so a write another thread made in between is lost, and two transactions interleave (seen here:
of two joins for the last place, the winner's room_count went with the loser's rollback). Every write and read of
moto's DynamoDB backend now holds one lock (re-entrant: a transaction writes through put_item and update_item),
so a transaction is applied, or rolled back, before anything else reads or writes. docs/moto-patches.md has the
write-up for moto.
"""

import functools
import threading

from local.stepfunctions.moto_patches.guard import Patch, Target

_BACKEND = "moto.dynamodb.models"
_SERIALIZED = (
    Target(_BACKEND, "DynamoDBBackend.transact_write_items", signature="(self, transact_items)"),
    Target(
        _BACKEND,
        "DynamoDBBackend.put_item",
        signature="(self, table_name, item_attrs, expected=None, condition_expression=None, "
        "expression_attribute_names=None, expression_attribute_values=None, overwrite=False, "
        "return_values_on_condition_check_failure=None)",
    ),
    Target(
        _BACKEND,
        "DynamoDBBackend.update_item",
        signature="(self, table_name, key, update_expression, expression_attribute_names, "
        "expression_attribute_values, attribute_updates=None, expected=None, condition_expression=None, "
        "return_values_on_condition_check_failure=None)",
    ),
    Target(
        _BACKEND,
        "DynamoDBBackend.delete_item",
        signature="(self, table_name, key, expression_attribute_names=None, expression_attribute_values=None, "
        "condition_expression=None, return_values_on_condition_check_failure=None)",
    ),
    Target(_BACKEND, "DynamoDBBackend.get_item", signature="(self, table_name, keys, projection_expressions=None)"),
    Target(
        _BACKEND,
        "DynamoDBBackend.query",
        signature="(self, table_name, hash_key_dict, range_comparison, range_value_dicts, limit, "
        "exclusive_start_key, scan_index_forward, projection_expressions, index_name=None, consistent_read=False, "
        "expr_names=None, expr_values=None, filter_expression=None, hash_key_conditions=None, "
        "range_key_conditions=None, **filter_kwargs)",
    ),
)

_lock = threading.RLock()


def _serialize() -> None:
    for target in _SERIALIZED:
        original = target.get()

        @functools.wraps(original)
        def serialized(*args, _original=original, **kwargs):
            with _lock:
                return _original(*args, **kwargs)

        target.replace(serialized)


PATCHES = [
    Patch(
        "DynamoDB transactions are isolated from every other write and read",
        replaces=_SERIALIZED,
        install=_serialize,
    )
]
