"""The kinds of work an execution can wait on, one folder each: how each starts, describes and announces its work."""
