"""Demo data for `make run` and the fake Instagram account (development only; imports every app)."""
