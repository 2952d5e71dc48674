"""quantops.jobs."""
