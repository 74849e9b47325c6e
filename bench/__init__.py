"""apimsync benchmarks (see bench/RESULTS.md)."""
