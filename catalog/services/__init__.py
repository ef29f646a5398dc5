"""Catalog writes. Admin, API and commands all go through these functions.

One module per entity; this package re-exports the public names.
"""

from .products import (
    PRODUCT_UPDATABLE_FIELDS,
    price_to_minor,
    product_create,
    product_delete,
    product_set_status,
    product_update,
    products_delete,
    products_for_actor,
    products_popularity_set,
)
from .sellers import (
    SELLER_CATALOG_PERMISSIONS,
    SELLERS_GROUP_NAME,
    actor_sees_all,
    actor_seller,
    scope_to_actor,
    seller_attach,
    seller_create,
    seller_update,
    seller_validate_new,
    sellers_group_ensure,
)

__all__ = [
    "PRODUCT_UPDATABLE_FIELDS",
    "SELLERS_GROUP_NAME",
    "SELLER_CATALOG_PERMISSIONS",
    "actor_seller",
    "actor_sees_all",
    "price_to_minor",
    "product_create",
    "product_delete",
    "product_set_status",
    "product_update",
    "products_delete",
    "products_for_actor",
    "products_popularity_set",
    "scope_to_actor",
    "seller_attach",
    "seller_create",
    "seller_validate_new",
    "seller_update",
    "sellers_group_ensure",
]
