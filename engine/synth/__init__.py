"""Synthetic pedestrians with known attributes, and datasets of them in the Interactive-PEDES format."""
