"""Static files as shipped: our own JavaScript minified before it is hashed and compressed.

The page's JavaScript has a budget of 3 KB compressed (DESIGN.md), and the
comments that explain it cost about a third of that. The source keeps its
comments; what collectstatic writes (and whitenoise then compresses) has them
stripped by rjsmin, which knows JavaScript's strings and regular expressions
(a hand-written comment stripper would cut "https://" in half).
"""

from __future__ import annotations

from django.core.files.base import ContentFile
from whitenoise.storage import CompressedManifestStaticFilesStorage

# Only our own scripts: third-party bundles (admin, API docs) ship as their
# authors built them.
OWN_SCRIPT_PREFIXES = ("shop/", "notifications/")


def js_minify(source: str) -> str:
    """Return `source` without comments and needless whitespace."""
    import rjsmin

    return rjsmin.jsmin(source)


class MinifiedManifestStaticFilesStorage(CompressedManifestStaticFilesStorage):
    """Whitenoise's hashed, compressed storage, minifying our own .js files on save.

    Both the plain copy and the hashed one pass through _save, so what is
    hashed, compressed and served is the minified text.
    """

    def _save(self, name, content):
        if name.endswith(".js") and name.startswith(OWN_SCRIPT_PREFIXES):
            content.seek(0)
            text = content.read()
            if isinstance(text, bytes):
                text = text.decode("utf-8")
            content = ContentFile(js_minify(text).encode("utf-8"))
        return super()._save(name, content)
