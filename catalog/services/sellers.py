"""Seller accounts: creation, profile changes, and who may act on whose rows.

A seller is a staff user (so they can log into /admin) who is *not* a
superuser, sits in the "Sellers" group for their model permissions, and has a
`Seller` row. The admin, the API and the commands all ask `actor_seller()` and
`actor_sees_all()` which rows a user may touch, so the rule lives in one place.
"""

from __future__ import annotations

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.text import slugify
from django.utils.translation import gettext as _

from catalog.models import Region, Seller

SELLERS_GROUP_NAME = "Sellers"

# Exactly what a seller needs in the catalog: their own listings and photos
# (rows are scoped to their own by the admin and the services), their own
# profile, and read access to the shared vocabularies they pick from.
# Other apps (orders) may add their own permissions to the group; only the
# catalog's are pinned here.
SELLER_CATALOG_PERMISSIONS = (
    "view_product",
    "add_product",
    "change_product",
    "delete_product",
    "view_productimage",
    "add_productimage",
    "change_productimage",
    "delete_productimage",
    "view_seller",
    "change_seller",
    "view_category",
    "view_region",
)

# Sellers may change these profile fields themselves; `verified`, the slug,
# the region and the login are set by staff.
SELLER_EDITABLE_PROFILE_FIELDS = ("display_name", "phone")
STAFF_EDITABLE_PROFILE_FIELDS = ("display_name", "slug", "region", "phone", "verified")


def actor_sees_all(user: AbstractBaseUser | AnonymousUser | None) -> bool:
    """Return True when `user` is staff who may see every seller's rows.

    Superusers always do. Another active staff user does unless they are a
    seller or belong to the Sellers group: a seller account whose Seller row
    was removed must see nothing, never everything.
    """
    if user is None or not user.is_active or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    if not user.is_staff or actor_seller(user) is not None:
        return False
    return not _in_sellers_group(user)


def actor_seller(user: AbstractBaseUser | AnonymousUser | None) -> Seller | None:
    """Return the seller profile of `user` (cached on the user), or None."""
    if user is None or not user.is_authenticated:
        return None
    if user.is_superuser:
        # A superuser acts as staff even if a profile was attached for testing.
        return None
    try:
        return user.seller
    except Seller.DoesNotExist:
        return None


def scope_to_actor(qs: QuerySet, *, actor, seller_lookup: str = "seller") -> QuerySet:
    """Return `qs` narrowed to `actor`'s own rows (Seller reached by `seller_lookup`).

    Staff keep every row; a seller-group login whose profile is gone gets none.
    """
    if actor_sees_all(actor):
        return qs
    seller = actor_seller(actor)
    if seller is None:
        return qs.none()
    return qs.filter(**{seller_lookup: seller.pk})


def _in_sellers_group(user) -> bool:
    cached = getattr(user, "_catalog_in_sellers_group", None)
    if cached is None:
        cached = user.groups.filter(name=SELLERS_GROUP_NAME).exists()
        user._catalog_in_sellers_group = cached
    return cached


@transaction.atomic
def sellers_group_ensure() -> Group:
    """Return the Sellers group holding exactly the catalog permissions above.

    Idempotent: run it any number of times; catalog permissions added to the
    group by hand are removed again, other apps' permissions are left alone.
    """
    # On a database migrated in the same process (tests, first deploy) the
    # post_migrate signal has created these already; this is a no-op then.
    create_permissions(apps.get_app_config("catalog"), verbosity=0)
    group, _created = Group.objects.get_or_create(name=SELLERS_GROUP_NAME)
    wanted = set(
        Permission.objects.filter(
            content_type__app_label="catalog", codename__in=SELLER_CATALOG_PERMISSIONS
        )
    )
    if len(wanted) != len(SELLER_CATALOG_PERMISSIONS):
        missing = set(SELLER_CATALOG_PERMISSIONS) - {p.codename for p in wanted}
        raise RuntimeError(f"catalog permissions missing from the database: {sorted(missing)}")
    current_catalog = set(group.permissions.filter(content_type__app_label="catalog"))
    if extra := current_catalog - wanted:
        group.permissions.remove(*extra)
    if missing := wanted - current_catalog:
        group.permissions.add(*missing)
    return group


def _unique_seller_slug(display_name: str, username: str) -> str:
    base = (slugify(display_name) or slugify(username) or "seller")[:90].strip("-") or "seller"
    taken = set(
        Seller.objects.filter(slug__startswith=base).values_list("slug", flat=True)
    )
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _new_seller_rows(
    *, username: str, email: str, password: str, display_name: str,
    region: Region | None, phone: str, verified: bool,
) -> tuple[AbstractBaseUser, Seller]:
    """Return the unsaved user and seller for these values; raise ValidationError if any is bad.

    Every problem is collected, so a form or the command can show them all at once.
    """
    User = get_user_model()
    username = (username or "").strip()
    email = (email or "").strip()
    display_name = (display_name or "").strip()
    phone = (phone or "").strip()

    errors: dict[str, list[str]] = {}

    def collect(exc: ValidationError, field: str) -> None:
        if hasattr(exc, "error_dict"):
            for name, messages in exc.message_dict.items():
                errors.setdefault(name, []).extend(messages)
        else:
            errors.setdefault(field, []).extend(exc.messages)

    if not email:
        # The user model allows a blank email; a seller needs one to be reached.
        errors.setdefault("email", []).append(_("An email address is required."))
    if username and User._default_manager.filter(username__iexact=username).exists():
        errors.setdefault("username", []).append(
            _("The username %(u)s is already taken.") % {"u": username}
        )

    user = User(username=username, email=email, is_staff=True, is_superuser=False)
    try:
        user.full_clean(exclude=["password"], validate_unique=False)
    except ValidationError as exc:
        collect(exc, "username")
    if not password:
        errors.setdefault("password", []).append(_("A password is required."))
    else:
        try:
            validate_password(password, user=user)
        except ValidationError as exc:
            collect(exc, "password")

    seller = Seller(
        display_name=display_name,
        slug=_unique_seller_slug(display_name, username),
        region=region,
        phone=phone,
        verified=verified,
    )
    try:
        seller.full_clean(exclude=["user"], validate_unique=False)
    except ValidationError as exc:
        collect(exc, "display_name")
    if errors:
        raise ValidationError(errors)
    user.set_password(password)
    return user, seller


def seller_validate_new(
    *, username: str, email: str, password: str, display_name: str,
    region: Region | None = None, phone: str = "",
) -> None:
    """Raise ValidationError (a dict of field messages) if seller_create would refuse these."""
    _new_seller_rows(
        username=username, email=email, password=password, display_name=display_name,
        region=region, phone=phone, verified=False,
    )


@transaction.atomic
def seller_create(
    *,
    username: str,
    email: str,
    password: str,
    display_name: str,
    region: Region | None = None,
    phone: str = "",
    verified: bool = False,
) -> Seller:
    """Create a seller's login (staff, never superuser, in the Sellers group) and profile.

    Raise ValidationError with field messages on bad input; nothing is written then.
    """
    user, seller = _new_seller_rows(
        username=username, email=email, password=password, display_name=display_name,
        region=region, phone=phone, verified=verified,
    )
    try:
        # A savepoint, so a concurrent request that took the same username or
        # slug a moment ago becomes a field error instead of a broken transaction.
        with transaction.atomic():
            user.save()
            seller.user = user
            seller.save()
    except IntegrityError as exc:
        raise ValidationError(
            {"username": _("This username or seller name was taken a moment ago; try again.")}
        ) from exc
    user.groups.add(sellers_group_ensure())
    return seller


@transaction.atomic
def seller_attach(
    *, user: AbstractBaseUser, display_name: str, region: Region | None = None, phone: str = "",
) -> Seller:
    """Make an existing login a seller (staff, in the Sellers group, with a profile); return it.

    For accounts that exist before they sell (sellers.services: a sign-up
    approved by staff). Raise ValidationError on a bad profile or when the
    login is a superuser or already a seller; nothing is written then.
    """
    if user.is_superuser:
        raise ValidationError({"user": _("A superuser cannot also be a seller.")})
    if Seller.objects.filter(user=user).exists():
        raise ValidationError({"user": _("This login is already a seller.")})
    seller = Seller(
        user=user, display_name=(display_name or "").strip(),
        slug=_unique_seller_slug(display_name, user.get_username()), region=region,
        phone=(phone or "").strip(),
    )
    seller.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            seller.save()
    except IntegrityError as exc:
        raise ValidationError(
            {"display_name": _("This seller name was taken a moment ago; try again.")}
        ) from exc
    type(user)._default_manager.filter(pk=user.pk).update(is_staff=True)
    user.is_staff = True
    user.groups.add(sellers_group_ensure())
    return seller


@transaction.atomic
def seller_update(*, seller: Seller, actor, **changes) -> Seller:
    """Change a seller profile; a seller may change only their own display name and phone.

    Raise PermissionDenied when `actor` may not change this profile or one of
    these fields, ValidationError on bad values.
    """
    if actor_sees_all(actor):
        allowed = STAFF_EDITABLE_PROFILE_FIELDS
    else:
        own = actor_seller(actor)
        if own is None or own.pk != seller.pk:
            raise PermissionDenied(_("You may only change your own seller profile."))
        allowed = SELLER_EDITABLE_PROFILE_FIELDS
    if refused := sorted(set(changes) - set(allowed)):
        raise PermissionDenied(
            _("You may not change: %(fields)s.") % {"fields": ", ".join(refused)}
        )
    locked = Seller.objects.select_for_update().get(pk=seller.pk)
    for field, value in changes.items():
        setattr(locked, field, value.strip() if isinstance(value, str) else value)
    locked.full_clean()
    if changes:
        locked.save(update_fields=list(changes))
    return locked
