"""Reads for the inbox page and API."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from core.pagination import keyset_page

from .conf import get_config
from .models import Notification


def inbox_queryset(*, shopper) -> QuerySet[Notification]:
    """Return the shopper's inbox, newest first (the keyset ordering ends with the pk)."""
    return (Notification.objects.in_inbox().filter(shopper=shopper)
            .only("id", "kind", "title", "body", "link", "sent_at", "read_at")
            .order_by("-sent_at", "-id"))


@dataclass(frozen=True)
class InboxPage:
    items: list[Notification]
    next_cursor: str | None


def inbox_page_get(*, shopper, cursor: str | None, limit: int | None = None) -> InboxPage:
    """Return one page of the inbox (one query); raise core.pagination.InvalidCursor."""
    rows, next_cursor = keyset_page(inbox_queryset(shopper=shopper), cursor=cursor,
                                    limit=limit or int(get_config()["PAGE_SIZE"]))
    return InboxPage(items=rows, next_cursor=next_cursor)
