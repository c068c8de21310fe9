"""A job run by a third party that accepts a callback URL: its HTTP job API, and how the wait starts and reads it."""
