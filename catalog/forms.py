"""Admin forms for product photos.

The photo field is a plain FileField, not Django's ImageField: ImageField
opens any format Pillow knows (TIFF, PSD, EPS...) and has one generic
message, while our pipeline has an allowlist and tells the seller exactly
what is wrong. Saving goes through catalog.services.images, so the raw upload
is never stored and the admin behaves like every other writer.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from catalog import images
from catalog.models import ProductImage
from catalog.services.images import (
    product_image_add,
    product_image_delete,
    product_image_update,
)

ACCEPT = "image/jpeg,image/png,image/webp"
POSITION_MAX = 32767  # PositiveSmallIntegerField's upper bound on every backend


class ProductImageForm(forms.ModelForm):
    original = forms.FileField(
        label=_("photo"),
        help_text=_("JPEG, PNG or WebP. Location data and other metadata are removed."),
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
    )
    # Empty means "after the existing photos", so a new photo never jumps
    # in front of the main one by accident.
    position = forms.IntegerField(
        label=_("position"), required=False, min_value=0, max_value=POSITION_MAX,
        help_text=_("Lower comes first; leave empty to add at the end."),
    )

    class Meta:
        model = ProductImage
        # `original` and `position` are declared above and written by the
        # service; only alt_text goes through the model form's own machinery.
        fields = ["alt_text"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial.setdefault("original", self.instance.original)
            self.initial.setdefault("position", self.instance.position)

    def clean_original(self):
        upload = self.cleaned_data.get("original")
        if not isinstance(upload, UploadedFile):
            return upload  # the photo already stored, unchanged
        limits = images.Limits.from_settings()
        try:
            # The header only: the decode runs in the render task, so a save
            # returns at once. A file that then fails to decode is marked
            # rejected on the product, with the reason.
            data = images.read_upload(upload, max_bytes=limits.max_bytes)
            images.open_validated(data, limits=limits, decode=False)
        except images.ImageRejected as exc:
            raise ValidationError(exc.message, code=exc.code) from exc
        finally:
            upload.seek(0)
        return upload

    def save(self, commit: bool = True) -> ProductImage:
        """Write through the images service and return the saved image.

        The files and the row are written together even with commit=False:
        an image row without its files (or files without a row) is never
        valid, and saving the returned instance again is harmless.
        """
        if self.errors:
            raise ValueError("The photo could not be saved because the data didn't validate.")
        upload = self.cleaned_data.get("original")
        new_upload = upload if isinstance(upload, UploadedFile) else None
        alt_text = self.cleaned_data.get("alt_text", "")
        position = self.cleaned_data.get("position")
        if self.instance.pk:
            self.instance = product_image_update(
                image=self.instance, upload=new_upload, alt_text=alt_text, position=position
            )
        else:
            self.instance = product_image_add(
                product=self.instance.product, upload=new_upload, alt_text=alt_text,
                position=position,
            )
        self.save_m2m = self._save_m2m
        return self.instance


class ProductImageInlineFormSet(BaseInlineFormSet):
    """Inline formset whose deletions also remove the files no other image uses."""

    def delete_existing(self, obj: ProductImage, commit: bool = True) -> None:
        if commit:
            product_image_delete(image=obj)
