"""drf-spectacular hooks for what the generated schema cannot know by itself."""

from core.api.fields import sparse_component_names


def sparse_fields_optional(result, generator, request, public):
    """With `?fields=` any key of a sparse serializer may be absent: none is required."""
    schemas = result.get("components", {}).get("schemas", {})
    for name in sparse_component_names():
        schemas.get(name, {}).pop("required", None)
    return result


# Request bodies whose unknown keys are refused (a typo must not be dropped silently).
CLOSED_REQUEST_COMPONENTS = ("EventBatchRequest", "EventInRequest",
                             "PatchedShopperProfileUpdateRequest", "ShopperCreateRequest")


def closed_request_bodies(result, generator, request, public):
    """Mark the request bodies that refuse unknown keys with additionalProperties: false."""
    schemas = result.get("components", {}).get("schemas", {})
    for name in CLOSED_REQUEST_COMPONENTS:
        if name in schemas:
            schemas[name]["additionalProperties"] = False
    return result
