"""quantops.data."""
