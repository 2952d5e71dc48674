"""quantops.store."""
