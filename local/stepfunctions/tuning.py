"""Speed-ups for moto's Step Functions interpreter under bursts of executions; behaviour unchanged.

Measured here, most of an execution's CPU time went to work that does not depend on the execution:
re-parsing the state machine's definition, re-parsing every JSONPath, and building a new boto3
client for every Lambda task. Each is memoized:

- parsed definitions: a parsed program keeps no per-execution state (that lives in the evaluation
  Environment), which is why concurrent Map iterations of one execution can already share it;
- parsed JSONPath expressions are immutable;
- boto3 clients are thread-safe, and every task of the runtime talks to the same local endpoint.
"""

import functools
import sys
import threading


def apply() -> None:
    _memoize_definition_parsing()
    _memoize_jsonpath_parsing()
    _reuse_boto_clients()


def _memoize_definition_parsing() -> None:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    AmazonStateLanguageParser.parse = staticmethod(functools.lru_cache(maxsize=64)(AmazonStateLanguageParser.parse))


def _memoize_jsonpath_parsing() -> None:
    from moto.stepfunctions.parser.asl.utils import json_path

    json_path.parse = functools.lru_cache(maxsize=4096)(json_path.parse)


def _reuse_boto_clients() -> None:
    # Import the interpreter's modules first, so that every copy of the function can be replaced.
    import moto.stepfunctions.parser.backend.execution  # noqa: F401
    from moto.stepfunctions.parser.asl.utils import boto_client

    original = boto_client.boto_client_for
    clients = {}
    lock = threading.Lock()

    @functools.wraps(original)
    def shared_client(region: str, service: str, state_credentials=None):
        with lock:
            if (region, service) not in clients:
                clients[(region, service)] = original(region, service, state_credentials)
            return clients[(region, service)]

    for module in list(sys.modules.values()):
        if getattr(module, "boto_client_for", None) is original:
            module.boto_client_for = shared_client
