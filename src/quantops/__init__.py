"""quantops."""
