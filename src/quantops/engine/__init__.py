"""quantops.engine."""
