"""Posts: their workflow (services), the gates they pass, captions, the publishing plan and the publishing itself."""
