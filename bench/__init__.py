"""Benchmarks: `make bench` (python -m bench) runs every scenario; see docs/benchmarks.md."""
