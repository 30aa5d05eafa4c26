"""Test factories, one module per area: libraries, production, publishing, archive, followup, reports."""
