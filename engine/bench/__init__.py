"""Benchmarks: speed (throughput/latency ratios against reference paths) and interactive retrieval."""
