"""The event contract (v1): vocabulary, validation and the identifier guard."""
