"""Health: is the node's chain and database reachable."""
