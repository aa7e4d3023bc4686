"""node.operations."""
