"""`seller_attach`: an existing login becomes a seller, once, never a superuser."""

import pytest
from django.core.exceptions import ValidationError

from catalog.models import Seller
from catalog.services import actor_seller, seller_attach
from tests.factories import SellerFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_an_existing_login_becomes_a_staff_seller_in_the_group():
    user = UserFactory(username="+919800000001")

    seller = seller_attach(user=user, display_name="Meena Handlooms", phone="+919800000001")

    user.refresh_from_db()
    assert user.is_staff and not user.is_superuser
    assert user.groups.filter(name="Sellers").exists()
    assert (seller.slug, actor_seller(user)) == ("meena-handlooms", seller)


@pytest.mark.parametrize("make", [
    lambda: UserFactory(username="root", is_superuser=True, is_staff=True),
    lambda: SellerFactory().user,
])
def test_superusers_and_sellers_are_refused_and_nothing_is_written(make):
    user = make()
    before = Seller.objects.count()

    with pytest.raises(ValidationError):
        seller_attach(user=user, display_name="Again")

    assert Seller.objects.count() == before


def test_a_blank_shop_name_is_refused():
    with pytest.raises(ValidationError) as excinfo:
        seller_attach(user=UserFactory(), display_name="  ")
    assert "display_name" in excinfo.value.message_dict
    assert not Seller.objects.exists()
