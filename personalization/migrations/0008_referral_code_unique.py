# Every profile has a code now (0007): make it required and unique, with the
# random default new profiles get.

from django.db import migrations, models

import personalization.models


class Migration(migrations.Migration):

    dependencies = [
        ("personalization", "0007_fill_referral_codes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="shopperprofile",
            name="referral_code",
            field=models.CharField(default=personalization.models.referral_code_new,
                                   editable=False, max_length=16, unique=True,
                                   verbose_name="referral code"),
        ),
    ]
