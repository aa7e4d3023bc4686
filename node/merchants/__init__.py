"""node.merchants."""
