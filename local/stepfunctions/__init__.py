"""Step Functions, locally: moto's ASL interpreter in a process of its own, and its execution history."""

# Ended executions kept per state machine (moto keeps each with its whole history): enough to look
# back over a session, few enough that a day of `make dev` stays flat (about 30 MB at most).
DEFAULT_KEEP_EXECUTIONS = 1000
