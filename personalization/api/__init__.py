"""The shopper-facing REST API: feed, shopper profile, events."""
