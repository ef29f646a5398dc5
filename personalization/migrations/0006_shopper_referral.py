# Referral credit (issue 18): each profile gets the code its share links carry,
# and remembers the first shared link it arrived by.
#
# Share links already carried ?ref=<8 characters>, an HMAC of the public id
# under the secret key (storefront/services.py before this change), though
# nothing read it. Existing profiles keep exactly that code, so links already
# sent on WhatsApp are credited from now on; the rare code two profiles share
# (40 bits) goes to the first and the other gets a fresh random one. New
# profiles get a random code (personalization.models.referral_code_new).
#
# The column is added nullable, filled, then made unique and required: a
# callable default in AddField would give every existing row the same code.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("personalization", "0005_drop_unused_segment_tables"),
    ]

    operations = [
        migrations.AddField(
            model_name="shopperprofile",
            name="referral_code",
            field=models.CharField(editable=False, max_length=16, null=True,
                                   verbose_name="referral code"),
        ),
        migrations.AddField(
            model_name="shopperprofile",
            name="referred_by",
            field=models.ForeignKey(blank=True, null=True,
                                    on_delete=models.deletion.SET_NULL, related_name="+",
                                    to="personalization.shopperprofile",
                                    verbose_name="referred by"),
        ),
        migrations.AddField(
            model_name="shopperprofile",
            name="referred_at",
            field=models.DateTimeField(blank=True, null=True,
                                       verbose_name="arrived by a shared link"),
        ),
    ]
