"""Step Functions, locally: moto's ASL interpreter in a process of its own, and its execution history."""

# Interpreter processes (local.stepfunctions.interpreters). One: on two cores a second one did not
# raise a burst's throughput (the gateway and the workers use the other core) and cost about 200 MB;
# where cores are spare, `--interpreters 2` lifts the one-process (GIL) bound.
DEFAULT_INTERPRETERS = 1

# Ended executions kept per state machine (moto keeps each with its whole history): enough to look
# back over a session, few enough that a day of `make dev` stays flat (about 30 MB at most).
DEFAULT_KEEP_EXECUTIONS = 1000
