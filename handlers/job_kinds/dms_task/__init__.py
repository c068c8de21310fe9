"""A DMS replication task: StartReplicationTask, DescribeReplicationTasks, its EventBridge events and completer."""
