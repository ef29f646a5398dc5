"""Seller and growth analytics in the admin, read from precomputed aggregate tables."""
