"""node.reconcile.service."""
