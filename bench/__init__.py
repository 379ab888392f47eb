"""Benchmarks at realistic scale: ``python -m bench --scale small|medium|large``.

Scenarios register themselves in ``bench.scenarios.SCENARIOS``; each builds what
it needs, times the real services, and returns its figures for the JSON report
written to ``bench/results/``.
"""
