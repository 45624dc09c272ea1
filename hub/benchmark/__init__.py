"""Benchmark: fixed seeded masks binned by hole ratio, per-image results store, leaderboard CSVs."""
