"""The state machine definitions as deployed: statemachines/<name>.asl.json, with the retry policy of
each kind of Task state stated once, here, and appended to that state's own retriers.

- Lambda tasks: the Lambda service errors AWS recommends retrying, with its recommended backoff (Step
  Functions best practices, "Handle transient Lambda service exceptions"), and ConnectionThrottled,
  the task functions' name for a 429 from @connections.
- @connections posts (apigateway:invoke): ApiGateway.429, the integration's name for that 429 (Step
  Functions developer guide, "Call API Gateway with Step Functions", Error handling).
- DynamoDB items (the optimized integration, dynamodb:getItem/putItem/updateItem/deleteItem) and queries, batch
  reads and transactions (the AWS SDK integration, aws-sdk:dynamodb:query/batchGetItem/transactWriteItems):
  DynamoDB's throttling and internal errors, the ones it says to retry
  (DynamoDB developer guide, "Error handling with DynamoDB"). Step Functions names them "DynamoDB." plus
  DynamoDB's error code for the optimized integration, and "DynamoDb." plus the exception name, always ending
  in "Exception", for the AWS SDK integration (Step Functions developer guide, "AWS SDK service integrations":
  ServiceName.ErrorName in PascalCase). A condition that fails (DynamoDB.ConditionalCheckFailedException) is
  an answer, not an error to retry.
- Executions started by a workflow (states:startExecution): Step Functions' throttling.

A throttled post is tried again after 1, 2 and 4 s: a message still throttled after 7 s is reported to the
sender as failed, so they can resend, rather than delivered late after 15 s or more.
"""

import json
from typing import Any

from cdk.paths import STATEMACHINES_DIR

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
CONNECTIONS_POST = "arn:aws:states:::apigateway:invoke"
DYNAMODB_PUT_ITEM = "arn:aws:states:::dynamodb:putItem"
DYNAMODB_DELETE_ITEM = "arn:aws:states:::dynamodb:deleteItem"
DYNAMODB_GET_ITEM = "arn:aws:states:::dynamodb:getItem"
DYNAMODB_UPDATE_ITEM = "arn:aws:states:::dynamodb:updateItem"
DYNAMODB_QUERY = "arn:aws:states:::aws-sdk:dynamodb:query"
DYNAMODB_BATCH_GET = "arn:aws:states:::aws-sdk:dynamodb:batchGetItem"
DYNAMODB_TRANSACT_WRITE = "arn:aws:states:::aws-sdk:dynamodb:transactWriteItems"
START_EXECUTION = "arn:aws:states:::states:startExecution"

LAMBDA_SERVICE_ERRORS = [
    "Lambda.ClientExecutionTimeoutException",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
]
BACKOFF = {"IntervalSeconds": 1, "BackoffRate": 2, "MaxAttempts": 3}
DYNAMODB_RETRIED = ("ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded")
DYNAMODB_ITEM_ERRORS = [*(f"DynamoDB.{code}" for code in DYNAMODB_RETRIED), "DynamoDB.InternalServerError"]
DYNAMODB_SDK_ERRORS = [
    *(f"DynamoDb.{code.removesuffix('Exception')}Exception" for code in DYNAMODB_RETRIED),
    "DynamoDb.InternalServerErrorException",
]

# A workflow starting another (room_fanout, connection_cleanup): Step Functions' throttling of StartExecution,
# named "StepFunctions." plus the exception, as the optimized integration names the API's errors.
STEP_FUNCTIONS_RETRIED = ["StepFunctions.ThrottlingException"]

RETRY_POLICIES: dict[str, list[dict[str, Any]]] = {
    LAMBDA_INVOKE: [
        {"ErrorEquals": ["ConnectionThrottled"], **BACKOFF},
        {"ErrorEquals": LAMBDA_SERVICE_ERRORS, **BACKOFF},
    ],
    CONNECTIONS_POST: [{"ErrorEquals": ["ApiGateway.429"], **BACKOFF}],
    **{
        resource: [{"ErrorEquals": DYNAMODB_ITEM_ERRORS, **BACKOFF}]
        for resource in (DYNAMODB_GET_ITEM, DYNAMODB_PUT_ITEM, DYNAMODB_UPDATE_ITEM, DYNAMODB_DELETE_ITEM)
    },
    **{
        resource: [{"ErrorEquals": DYNAMODB_SDK_ERRORS, **BACKOFF}]
        for resource in (DYNAMODB_QUERY, DYNAMODB_BATCH_GET, DYNAMODB_TRANSACT_WRITE)
    },
    START_EXECUTION: [{"ErrorEquals": STEP_FUNCTIONS_RETRIED, **BACKOFF}],
}


def deployed_definition(asl_name: str) -> str:
    """statemachines/<asl_name>.asl.json with every Task state's retry policy, ${Placeholders} untouched."""
    definition = json.loads((STATEMACHINES_DIR / f"{asl_name}.asl.json").read_text(encoding="utf-8"))
    _add_retry_policies(definition["States"])
    return json.dumps(definition, indent=2)


def task_states(states: dict[str, Any]) -> list[dict[str, Any]]:
    """Every Task state, in Map item processors and Parallel branches too."""
    found = []
    for state in states.values():
        if state["Type"] == "Task":
            found.append(state)
        for _, machine in nested_machines(state):
            found += task_states(machine["States"])
    return found


def nested_machines(state: dict[str, Any]) -> list[tuple[str, Any]]:
    """The state machines inside a state, each with where it sits: a Map's ItemProcessor (Iterator, in older
    definitions) and a Parallel's branches ("branch 0", ...)."""
    nested = [(key, state[key]) for key in ("ItemProcessor", "Iterator") if key in state]
    return nested + [(f"branch {index}", branch) for index, branch in enumerate(state.get("Branches", []))]


def _add_retry_policies(states: dict[str, Any]) -> None:
    for state in task_states(states):
        policy = RETRY_POLICIES.get(state["Resource"])
        if policy is None:
            raise ValueError(f"no retry policy for Task resource {state['Resource']}")
        # A state's own retriers come first: ASL applies the first retrier whose ErrorEquals matches.
        state["Retry"] = [*state.get("Retry", []), *(dict(retrier) for retrier in policy)]
