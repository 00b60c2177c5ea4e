"""Commands an operator runs beside ``cdk deploy`` (``make preflight``); they build no construct."""
