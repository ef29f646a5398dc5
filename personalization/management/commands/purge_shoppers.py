"""`manage.py purge_shoppers`: drop abandoned anonymous profiles (cron, daily)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from personalization import privacy
from personalization.conf import get_config
from personalization.services import shoppers_purge_abandoned


class Command(BaseCommand):
    help = (
        "Delete anonymous shopper profiles (no account, no CSV id, no order) not seen for "
        "PERSONALIZATION['ABANDONED_AFTER_DAYS'] days; their events are kept, unlinked. "
        "Then finish held erasures (e.g. an erased shopper's order once delivered and paid). "
        "Safe to run at any time and again."
    )

    def handle(self, *args, **options):
        purged = shoppers_purge_abandoned()
        days = get_config()["ABANDONED_AFTER_DAYS"]
        self.stdout.write(self.style.SUCCESS(
            f"{purged} abandoned shopper profile(s) purged (unseen for {days}+ days)."
        ))
        for label, purger in sorted(privacy.purgers().items()):
            self.stdout.write(self.style.SUCCESS(f"{purger()} {label}."))
