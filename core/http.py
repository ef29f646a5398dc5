"""Small HTTP helpers the apps' page views share."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import redirect


def see_other(to: str, *args, **kwargs) -> HttpResponse:
    """Redirect a POST with 303, so the browser follows with a GET and reload never re-posts."""
    response = redirect(to, *args, **kwargs)
    response.status_code = 303
    return response
