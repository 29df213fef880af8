"""Domain models (SQLAlchemy 2) and pure rule modules (`*_rules.py`, no Flask, no SQLAlchemy)."""
