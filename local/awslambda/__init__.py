"""Lambda, locally: each function's real handler in warm worker processes, and Lambda's Invoke API."""
