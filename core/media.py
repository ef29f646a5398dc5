"""Serve local media with the right content type and immutable caching.

Variant file names carry a hash of their content, so a URL never changes its
bytes: browsers and proxies may keep them for a year without revalidating.
"""

import mimetypes
import posixpath
from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404
from django.utils._os import safe_join
from django.views.decorators.http import require_safe

ALLOWED_TYPES = {"image/avif", "image/webp", "image/jpeg", "image/png"}
# catalog.services.images keeps uploads here, metadata and all, until rendered.
INCOMING_PREFIX = "products/incoming/"


@require_safe
def serve_media(request, path: str):
    normalized = posixpath.normpath(path).lstrip("/")
    if normalized.startswith(INCOMING_PREFIX):
        # Uploads as received, waiting for their render: never served.
        raise Http404("Not found")
    try:
        full_path = Path(safe_join(settings.MEDIA_ROOT, normalized))
    except Exception as exc:  # SuspiciousFileOperation: a path outside MEDIA_ROOT
        raise Http404("Not found") from exc
    if not full_path.is_file():
        raise Http404("Not found")
    content_type, _ = mimetypes.guess_type(full_path.name)
    if content_type not in ALLOWED_TYPES:
        # Only images live in media; anything else is not served from our origin.
        raise Http404("Not found")
    response = FileResponse(full_path.open("rb"), content_type=content_type)
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    # Opened directly (not through <img>), a file still runs nothing: no
    # scripts, no plugins, no same-origin access, whatever bytes it holds.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
