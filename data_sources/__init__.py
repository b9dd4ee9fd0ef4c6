"""Data sources: query in, typed rows out. No Textual here (tests/test_layering.py)."""
