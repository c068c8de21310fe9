"""A local stand-in of a deployed stack: the SDK's durable-execution API, a Lambda Invoke endpoint running the
handlers as their aliases would, moto's DynamoDB, Secrets Manager, STS and CloudWatch Logs, the DMS simulation over
HTTP, EventBridge's routing of DMS events to the completer, and the stack's outputs (``migration-wait-standin``)."""
