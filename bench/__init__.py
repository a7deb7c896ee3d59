"""Benchmarks and data generators (run as modules: python -m bench.<name>)."""
