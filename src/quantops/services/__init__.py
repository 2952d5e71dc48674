"""quantops.services."""
