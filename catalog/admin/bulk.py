"""Bulk listing uploads in the seller admin: upload, preview the check, confirm, watch it write.

Pages (all under /admin/catalog/bulkupload/):
- `add/` the upload form (a CSV, optionally a ZIP of photos) and the template link;
- `<id>/change/` the job page: the check's result (N rows OK, errors by line),
  the "Write N listings" button while it waits for the seller, then the
  progress of the writing task (the page reloads itself while it works);
- `<id>/confirm/` (POST) queues the writing; `template.csv` the template.
A seller sees only their own jobs: every lookup starts from the scoped
queryset, so another seller's job is a 404, never a redirect naming it.
Jobs are records: never edited or deleted here.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from catalog.bulk import bulk_limits
from catalog.models import BulkUpload, Category
from catalog.services import actor_sees_all, actor_seller
from catalog.services.bulk import (
    bulk_template_csv,
    bulk_upload_confirm,
    bulk_upload_create,
    bulk_uploads_for_actor,
)

# Seconds between reloads of a job page while its task works.
REFRESH_SECONDS = 3


class BulkUploadForm(forms.Form):
    listings = forms.FileField(
        label=_("Listings (CSV)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    photos = forms.FileField(
        label=_("Photos (ZIP, optional)"), required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".zip,application/zip"}),
    )


@admin.register(BulkUpload)
class BulkUploadAdmin(admin.ModelAdmin):
    list_display_links = ("file",)
    list_select_related = ("seller",)
    list_per_page = 25
    show_full_result_count = False

    # --- who may do what ------------------------------------------------------------------

    def _staff_may_view(self, request: HttpRequest) -> bool:
        return actor_sees_all(request.user) and request.user.has_perm("catalog.view_bulkupload")

    def has_module_permission(self, request):
        # Every seller, whatever their group's permissions (groups made before
        # this page existed lack the new ones): the queryset is theirs only.
        return actor_seller(request.user) is not None or self._staff_may_view(request)

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        # Staff import for sellers with `import_dataset` (they name the seller per row).
        return actor_seller(request.user) is not None

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return bulk_uploads_for_actor(request.user)

    # --- the list -------------------------------------------------------------------------

    def get_list_display(self, request):
        if actor_sees_all(request.user):
            return ("file", "seller", "state_badge", "counts")
        # Three columns fit a 360px phone: the date sits under the file name.
        return ("file", "state_badge", "counts")

    @admin.display(description=_("file"), ordering="-created_at")
    def file(self, job: BulkUpload) -> str:
        return format_html('{}<br><small class="bu-when">{}</small>', job.csv_name,
                           date_format(timezone.localtime(job.created_at), "DATETIME_FORMAT"))

    @admin.display(description=_("state"), ordering="state")
    def state_badge(self, job: BulkUpload) -> str:
        return format_html('<span class="bu-state bu-{}">{}</span>', job.state,
                           job.get_state_display())

    @admin.display(description=_("rows"))
    def counts(self, job: BulkUpload) -> str:
        if job.state == BulkUpload.State.DONE:
            return _("%(new)d new, %(updated)d updated") % {"new": job.created_count,
                                                            "updated": job.updated_count}
        if job.errors_total:
            return _("%(n)d error(s)") % {"n": job.errors_total}
        return str(job.rows_total)

    # --- pages ----------------------------------------------------------------------------

    def get_urls(self):
        def wrap(view):
            return self.admin_site.admin_view(never_cache(view))

        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("template.csv", wrap(self.template_view), name=f"{prefix}_template"),
            path("<int:object_id>/confirm/", wrap(require_POST(self.confirm_view)),
                 name=f"{prefix}_confirm"),
            *super().get_urls(),
        ]

    def _context(self, request: HttpRequest, **extra) -> dict:
        return {**self.admin_site.each_context(request), "opts": self.opts,
                "limits": bulk_limits(), **extra}

    def add_view(self, request: HttpRequest, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = BulkUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            job = bulk_upload_create(actor=request.user,
                                     csv_upload=form.cleaned_data["listings"],
                                     zip_upload=form.cleaned_data.get("photos"))
            return HttpResponseRedirect(reverse("admin:catalog_bulkupload_change",
                                                args=[job.pk]))
        return TemplateResponse(request, "admin/catalog/bulkupload/upload.html",
                                self._context(request, title=_("Upload listings in bulk"),
                                              form=form, categories=_categories()))

    def _job(self, request: HttpRequest, object_id) -> BulkUpload:
        try:
            return self.get_queryset(request).get(pk=int(object_id))
        except (BulkUpload.DoesNotExist, ValueError, TypeError):
            raise Http404("No such upload.") from None

    def change_view(self, request: HttpRequest, object_id, form_url="", extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        job = self._job(request, object_id)
        context = self._context(
            request, title=_("Bulk upload: %(name)s") % {"name": job.csv_name}, job=job,
            refresh=REFRESH_SECONDS if job.is_working else None,
            may_confirm=(job.state == BulkUpload.State.CHECKED
                         and actor_seller(request.user) is not None),
            more_errors=max(0, job.errors_total - len(job.errors)),
        )
        return TemplateResponse(request, "admin/catalog/bulkupload/job.html", context)

    def history_view(self, request, object_id, extra_context=None):
        self._job(request, object_id)  # a 404 for other sellers' jobs, as everywhere here
        return super().history_view(request, object_id, extra_context)

    def confirm_view(self, request: HttpRequest, object_id) -> HttpResponse:
        job = self._job(request, object_id)
        try:
            job = bulk_upload_confirm(actor=request.user, upload=job)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
        else:
            if job.state == BulkUpload.State.DONE:
                self.message_user(request, _("All %(n)d listings are written.")
                                  % {"n": job.rows_total}, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:catalog_bulkupload_change", args=[job.pk]))

    def template_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        slugs = [slug for slug, _name in _categories()[:1]]
        response = HttpResponse(bulk_template_csv(categories=slugs),
                                content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="listings-template.csv"'
        return response


def _categories() -> list[tuple[str, str]]:
    """Return (slug, "Parent › Name") of every category, subcategories first, in one query."""
    rows = [(c.slug, str(c), c.parent_id is None)
            for c in Category.objects.select_related("parent")]
    return [(slug, name) for slug, name, _top in sorted(rows, key=lambda row: (row[2], row[1]))]
