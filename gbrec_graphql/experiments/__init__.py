"""Experiments: create/advance/stop A/B tests, results, and event ingestion."""
