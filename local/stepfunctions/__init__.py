"""Step Functions, locally: moto's ASL interpreter in a process of its own, and its execution history."""

import os

# Interpreter processes (local.stepfunctions.interpreters): one per core, two at most — each is about
# 100 MB, and beyond two the gateway and the workers, not the interpreter, use the cores.
DEFAULT_INTERPRETERS = max(1, min(2, os.cpu_count() or 1))

# Ended executions kept per state machine (moto keeps each with its whole history): enough to look
# back over a session, few enough that a day of `make dev` stays flat (about 30 MB at most).
DEFAULT_KEEP_EXECUTIONS = 1000
