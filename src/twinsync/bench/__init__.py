"""Benchmarks behind ``twinsync bench …``: each module has ``add_arguments`` and ``run``."""
