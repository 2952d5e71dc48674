"""quantops.chat."""
