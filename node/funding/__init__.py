"""node.funding."""
