"""AWS adapters: lazily created boto3 clients, error reading, and one class per AWS resource the code uses."""
