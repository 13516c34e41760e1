"""Experiments: single runs with replications, comparisons and sweeps."""
