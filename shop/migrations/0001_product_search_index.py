"""Full-text search over product titles and descriptions.

SQLite: an FTS5 table kept in sync by triggers. PostgreSQL: a GIN index on the
weighted tsvector expression, plus pg_trgm for typo tolerance when available.
Other databases get nothing (search falls back to LIKE).
"""

from django.db import migrations


def forwards(apps, schema_editor):
    from shop.search import search_index_ensure

    search_index_ensure(schema_editor.connection.alias)


def backwards(apps, schema_editor):
    from shop.search import search_index_drop

    search_index_drop(schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
