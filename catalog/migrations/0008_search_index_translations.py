"""The search index, rebuilt over the listing's translations with a tokenizer for Hindi.

SQLite: the FTS5 table gains the `title_hi`, `title_ar`, `description_hi` and
`description_ar` columns, and its tokenizer counts combining marks as part of
a word (Devanagari vowel signs and the nukta), so "साड़ी" is one word, not
"स" and "ड". PostgreSQL: the GIN index covers the new expression. Both are
dropped and created again by `catalog.search.search_index_ensure`; the SQLite
index is rebuilt from the product table, so no row is lost.
"""

from django.db import migrations


def forwards(apps, schema_editor):
    from catalog.search import search_index_drop, search_index_ensure

    search_index_drop(schema_editor.connection.alias)
    search_index_ensure(schema_editor.connection.alias)


def backwards(apps, schema_editor):
    # The columns the index names go away with 0005 reversed; the old code's
    # post-migrate hook builds its own index again.
    from catalog.search import search_index_drop

    search_index_drop(schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0007_product_translations_search_vocabulary")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
