"""A DMS Serverless replication: StartReplication, DescribeReplications, its EventBridge events and completer."""
