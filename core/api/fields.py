"""Sparse fieldsets: `?fields=id,title,price` returns only those keys.

A feed card is already small, but an app that only needs ids and prices for a
price-drop check should not pay for titles and image URLs on a metered link.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError

FIELDS_PARAM = "fields"
MAX_FIELDS_LENGTH = 500


def fields_parameter(serializer_class) -> OpenApiParameter:
    """Return the OpenAPI description of `?fields=` for a serializer."""
    names = list(serializer_class().fields)
    one = "(" + "|".join(names) + ")"
    return OpenApiParameter(
        FIELDS_PARAM,
        {"type": "string", "pattern": f"^{one}(,{one})*$"},
        description=f"Comma-separated subset of the fields to return: {', '.join(names)}.",
        required=False,
    )


def sparse_fields_parse(request, serializer_class) -> frozenset[str] | None:
    """Return the requested field names, None for all; raise ValidationError for unknown ones."""
    raw = request.query_params.get(FIELDS_PARAM)
    if raw is None:
        return None
    if len(raw) > MAX_FIELDS_LENGTH:
        raise ValidationError({FIELDS_PARAM: [_("Too long.")]})
    requested = [name.strip() for name in raw.split(",") if name.strip()]
    if not requested:
        raise ValidationError({FIELDS_PARAM: [_("Name at least one field.")]})
    known = set(serializer_class().fields)
    unknown = sorted(set(requested) - known)
    if unknown:
        raise ValidationError(
            {
                FIELDS_PARAM: [
                    _("Unknown field(s): %(unknown)s. Choose from: %(known)s.")
                    % {"unknown": ", ".join(unknown), "known": ", ".join(sorted(known))}
                ]
            }
        )
    return frozenset(requested)


_sparse_components: set[str] = set()


def sparse_component_names() -> frozenset[str]:
    """Return the schema component names of every serializer that honours `?fields=`."""
    return frozenset(_sparse_components)


class SparseFieldsMixin:
    """Serializer mixin: drop the fields not named in context["fields"]."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # drf-spectacular names a component after its serializer minus "Serializer".
        _sparse_components.add(cls.__name__.removesuffix("Serializer"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        wanted = self.context.get(FIELDS_PARAM)
        if wanted is not None:
            for name in set(self.fields) - set(wanted):
                self.fields.pop(name)
