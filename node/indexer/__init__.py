"""node.indexer.service."""
