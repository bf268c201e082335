"""The test suite, a package so every module has one name (tests.<dir>.<module>): mypy checks
the several conftest.py files side by side, and helpers are imported as tests.<dir>.<helper>."""
