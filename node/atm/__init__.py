"""node.atm."""
