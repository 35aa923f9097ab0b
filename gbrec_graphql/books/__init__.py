"""Books: the in-memory catalogue, DataLoaders and the ``book`` query."""
