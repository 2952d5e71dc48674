"""quantops.analysis."""
