"""quantops.slack."""
