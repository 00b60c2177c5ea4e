"""Stack Chat-pipeline (``npx cdk synth -c pipeline=true``): the CDK pipeline that promotes the chat's stack
through every stage."""
