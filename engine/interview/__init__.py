"""The interview loop (paper §3.1): retrieve, select candidates, ask, re-rank."""
