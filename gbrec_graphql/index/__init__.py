"""The vector index: stats and rebuilds of the index behind similarBooks."""
