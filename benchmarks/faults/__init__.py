"""Fault injection and the kill soak: `python -m benchmarks.faults.kill_soak --kills 20`."""
