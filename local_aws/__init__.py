"""Local stand-ins for AWS, for the tests and the local comparison: a simulated DMS and the durable runner harness."""
