"""quantops.api."""
