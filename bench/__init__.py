"""Benchmarks for Innspill: page throughput under gunicorn and SQL queries per page.

Run them with `make bench` (or `python -m config.embedded exec -- python -m bench`).
They use their own database (innspill_bench) and Redis database (8), so they
never touch development or test data. Figures go to BENCHMARKS.md and
bench/results/latest.json; nothing here asserts a timing.
"""
