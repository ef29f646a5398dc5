"""Payment methods behind one small interface.

Today the shop takes cash on delivery only. A gateway (UPI, cards) becomes one
more `PaymentMethod` subclass registered here; checkout, the API and the order
pages only ever talk to this interface.

`authorize(order)` runs inside the placement transaction, after stock was
taken, and must be quick and local (COD only records that cash is due). A
remote gateway must not be called while rows are locked: it would place the
order as "awaiting payment" here and confirm it from the gateway's callback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from django.utils.translation import gettext_lazy as _

from .models import PaymentStatus

if TYPE_CHECKING:
    from .models import Order


@dataclass(frozen=True)
class Authorization:
    status: str  # a PaymentStatus value
    message: str = ""


class PaymentMethod:
    code: ClassVar[str]
    label: ClassVar[str]

    def authorize(self, order: Order) -> Authorization:
        """Return the payment status the new `order` starts with; raise PaymentRefused to abort."""
        raise NotImplementedError


class PaymentRefused(Exception):
    """The method refused the order: placement is rolled back with this message."""


_registry: dict[str, type[PaymentMethod]] = {}


def register(method: type[PaymentMethod]) -> type[PaymentMethod]:
    """Add `method` to the methods checkout offers (usable as a class decorator)."""
    if method.code in _registry and _registry[method.code] is not method:
        raise ValueError(f"payment method {method.code!r} is registered twice")
    _registry[method.code] = method
    return method


def payment_method_get(code: str) -> PaymentMethod:
    """Return an instance of the method with this code; raise KeyError if there is none."""
    return _registry[code]()


def payment_method_choices() -> list[tuple[str, str]]:
    return [(code, method.label) for code, method in _registry.items()]


@register
class CashOnDelivery(PaymentMethod):
    code = "cod"
    label = _("Cash on delivery")

    def authorize(self, order: Order) -> Authorization:
        # Nothing to charge now: the courier collects order.total_minor at the door
        # and the seller records it on each line (cod_collected_minor).
        return Authorization(status=PaymentStatus.PENDING_COLLECTION)
