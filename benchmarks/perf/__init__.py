"""Runnable benchmarks of the harness itself (e.g. `python -m benchmarks.perf.eval_throughput`)."""
