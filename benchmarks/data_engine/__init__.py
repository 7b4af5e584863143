"""The data-engine benchmark, split by concern; benchmarks/bench_data_engine.py runs it."""
