"""node.transfers."""
