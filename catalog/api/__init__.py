"""The catalog's read-only REST API: products, categories, regions."""
