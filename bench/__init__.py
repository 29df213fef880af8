"""Benchmarks: they print figures and are not run by the test suite (bench.ward is the
ward-scale one; see README "Performance")."""
