"""quantops.strategies."""
