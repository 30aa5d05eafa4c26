"""Benchmarks for Innspill: pages, archive search, media ingest, upload memory and the publishing pipeline.

Run them all with `make bench` (`python -m config.embedded exec -- python -m bench`), one with
`python -m bench.run MEASURE` (see bench/run.py), and profile a page with
`python -m bench.run profile --path /plan/`. They use their own databases (innspill_bench_s1,
innspill_bench_s5, innspill_bench_work), Redis database 8 and var/bench/, so they never touch
development or test data. Figures go to BENCHMARKS.md and bench/results/latest.json, as ratios
measured in one run; nothing here asserts a timing.
"""
