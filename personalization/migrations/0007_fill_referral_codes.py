# Fill the referral codes of existing profiles (0006 explains which codes).
# Its own migration, between adding the column and making it unique: on
# PostgreSQL each migration is one transaction, and rows updated in the same
# transaction as an ALTER TABLE can make it fail on pending trigger events.

import base64
import hashlib
import hmac

from django.conf import settings
from django.db import migrations

import personalization.models


def _legacy_code(public_id) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), f"referral:{public_id}".encode(),
                      hashlib.sha256).digest()
    return base64.b32encode(digest)[:8].decode().lower()


def fill_codes(apps, schema_editor):
    ShopperProfile = apps.get_model("personalization", "ShopperProfile")
    connection = schema_editor.connection
    qn = connection.ops.quote_name
    # One prepared UPDATE run through executemany: bulk_update would build a
    # CASE per row, minutes of CPU on a large shopper table. Only quoted
    # identifiers are formatted in; the values are parameters.
    table, column, key = qn(ShopperProfile._meta.db_table), qn("referral_code"), qn("id")
    update = f"UPDATE {table} SET {column} = %s WHERE {key} = %s"  # noqa: S608
    taken: set[str] = set()
    profiles = ShopperProfile.objects.using(connection.alias).order_by("pk")
    last = 0
    with connection.cursor() as cursor:
        while True:
            # Keyset chunks, each read in full before its UPDATEs run.
            chunk = list(profiles.filter(pk__gt=last).values_list("pk", "public_id")[:2000])
            if not chunk:
                return
            batch = []
            for pk, public_id in chunk:
                code = _legacy_code(public_id)
                while code in taken:
                    code = personalization.models.referral_code_new()
                taken.add(code)
                batch.append((code, pk))
            cursor.executemany(update, batch)
            last = chunk[-1][0]


class Migration(migrations.Migration):

    dependencies = [
        ("personalization", "0006_shopper_referral"),
    ]

    operations = [
        migrations.RunPython(fill_codes, migrations.RunPython.noop, elidable=False),
    ]
