"""Full-text search over product titles and descriptions (catalog/search.py).

SQLite: an FTS5 table kept in sync by triggers. PostgreSQL: a GIN index on the
weighted tsvector expression, plus pg_trgm for typo tolerance when available.
Other databases get nothing (search falls back to LIKE).

Until the layers were split this was migration `shop.0001_product_search_index`.
A database made then already has the table, triggers and indexes under the
same names; `search_index_ensure` creates only what is missing, so applying
this migration there changes nothing and loses no row.
"""

from django.db import migrations


def forwards(apps, schema_editor):
    # The index is built by 0006 now, over columns 0005 adds: building
    # today's index here would name columns this schema does not have yet.
    # Databases that ran this migration before have the first index, which
    # 0006 replaces.
    pass


def backwards(apps, schema_editor):
    from catalog.search import search_index_drop

    search_index_drop(schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
