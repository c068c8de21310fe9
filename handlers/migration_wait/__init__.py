"""Shared core of the migration-wait functions: domain rules, AWS adapters, settings and workflows."""
