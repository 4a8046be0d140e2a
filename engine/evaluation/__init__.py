"""Evaluation: Interactive-PEDES annotations, metrics and simulated witnesses."""
