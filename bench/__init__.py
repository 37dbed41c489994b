"""Benchmarks (not part of the deployed app): ``.venv/bin/python bench/webhook.py``."""
