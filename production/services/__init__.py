"""Production's workflows: planning (concepts, ideas, recording days) and media (uploads, people, consent)."""
