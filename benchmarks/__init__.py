"""srkd-bench: benchmark and reproduction harness for knowledge distillation in SISR."""

__version__ = "0.1.0"
