# SegmentItemScore, SegmentCategoryScore and SegmentMemberStage were written by
# no rebuild and read by no ranking since the per-segment lists moved into
# Segment rows (issue 13): the tables only ever held nothing. Dropping them
# whole (no field-by-field removal) is one statement each on every backend.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("personalization", "0004_segment_fitted_weights"),
    ]

    operations = [
        migrations.DeleteModel(name="SegmentCategoryScore"),
        migrations.DeleteModel(name="SegmentItemScore"),
        migrations.DeleteModel(name="SegmentMemberStage"),
    ]
