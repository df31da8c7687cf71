"""Financing facts: typed relations (who raised, invested, led, lent, at what value, when) extracted at ingest."""
