"""Media processing: inspecting, converting and checking uploaded files."""
