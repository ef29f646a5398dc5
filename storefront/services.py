"""Storefront writes that belong to no lower layer: the shopper's share code."""

from __future__ import annotations


def referral_code_get(*, shopper) -> str:
    """Return the code the shopper's share links carry as ?ref= ("" without a shopper).

    A random code kept on the profile (personalization.models.referral_code_new),
    never the profile's id: stable for a shopper so friends' orders can be
    credited, unguessable, and it tells whoever receives the link nothing
    about the sharer.
    """
    return shopper.referral_code if shopper is not None else ""
