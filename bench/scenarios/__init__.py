"""Benchmark scenarios: each module exposes ``run(ctx) -> list[dict]`` (see bench/context.py)."""
