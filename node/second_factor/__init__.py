"""node.second_factor."""
