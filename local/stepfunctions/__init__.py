"""Step Functions, locally: moto's ASL interpreter in a process of its own, and its execution history."""

# Interpreter processes (local.stepfunctions.interpreters). One: on two cores a second one did not
# raise a burst's throughput (the gateway and the workers use the other core) and cost about 200 MB;
# where cores are spare, `--interpreters 2` lifts the one-process (GIL) bound.
DEFAULT_INTERPRETERS = 1

# Ended executions kept per state machine: enough to look back over a session, few enough that a day of
# `make dev` stays flat. Each takes about 12 KB kept compact (its history compressed, moto_patches.hooks),
# some 12 MB a state machine at most; untuned (LOCAL_MOTO_TUNING=off), moto's own form, about 65 KB.
# Measured with tracemalloc across a 50 x 20 burst (1,100 executions).
DEFAULT_KEEP_EXECUTIONS = 1000
