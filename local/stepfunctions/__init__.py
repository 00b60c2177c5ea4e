"""Step Functions, locally: moto's ASL interpreter in a process of its own, and its execution history."""
