"""Pieces every API module shares: errors, pagination, caching, auth, throttles.

Each concern is one module, as in Django REST framework itself; app API
modules (`catalog/api/`, `personalization/api/`, ...) import from here.
"""
