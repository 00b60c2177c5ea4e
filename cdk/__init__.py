"""The CDK app of the serverless chat: one stack per stage, composed of one construct per concern."""
