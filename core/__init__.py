"""Plumbing with no domain imports: the apps above build on it, it never imports them."""
