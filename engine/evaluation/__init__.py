"""Evaluation: Interactive-PEDES annotations (annotations), metrics (metrics), simulated witnesses
(answerers), the interactive benchmark (runner) and its table and plot (tables)."""
