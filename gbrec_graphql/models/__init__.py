"""Models: registry versions, the serving version, deploy and rollback."""
