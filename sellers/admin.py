"""Cash on delivery remittances in the admin.

Staff record each payment to a seller (validated by sellers.services: above
zero, at most what is owed, a reference not used before for that seller) and
open any seller's cash statement. A seller sees only their own statement:
their list of remittances is the statement page itself, the seller asked for
in the URL is ignored in favour of their own (another seller's id is a 404),
and the queryset behind the change, history and delete pages is scoped to them.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from catalog.admin import SellerScopedAdmin
from catalog.admin.base import adopt_saved
from catalog.models import Seller
from catalog.money import format_money, minor_to_decimal
from catalog.services import actor_sees_all, actor_seller
from core.exports import csv_lines

from . import selectors, services, signup
from .forms import RefuseForm, RemittanceForm, StatementQuery
from .models import Remittance, SellerApplication

STATEMENT_HEADER = ["day", "currency", "cash_collected", "remitted", "owed_at_end_of_day"]
REMITTANCES_HEADER = ["paid_on", "currency", "amount", "reference", "note", "recorded_at"]


class BadQuery(Exception):
    def __init__(self, errors: dict) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))


@admin.register(Remittance)
class RemittanceAdmin(SellerScopedAdmin):
    form = RemittanceForm
    list_display = ("paid_on", "seller", "amount", "reference", "recorded_by", "statement")
    list_filter = ("currency", "paid_on")
    list_select_related = ("seller", "recorded_by")
    search_fields = ("reference", "seller__display_name", "seller__slug")
    autocomplete_fields = ("seller",)
    date_hierarchy = "paid_on"
    readonly_fields = ("recorded_by", "recorded_at")

    # --- who may do what ------------------------------------------------------------------

    def _staff_may(self, request: HttpRequest, perm: str) -> bool:
        return actor_sees_all(request.user) and request.user.has_perm(f"sellers.{perm}_remittance")

    def has_module_permission(self, request):
        return selectors.actor_may_view_cash(request.user)

    def has_view_permission(self, request, obj=None):
        return selectors.actor_may_view_cash(request.user)

    def has_add_permission(self, request):
        return self._staff_may(request, "add")

    def has_change_permission(self, request, obj=None):
        # Accounting records: a wrong entry is deleted (and logged), never rewritten.
        return False

    def has_delete_permission(self, request, obj=None):
        return self._staff_may(request, "delete")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("seller", "amount", "currency", "paid_on", "reference", "note")
        if actor_seller(request.user) is not None:
            # Staff's logins stay staff's (as on the statement).
            return ("seller", "amount", "currency", "paid_on", "reference", "note",
                    "recorded_at")
        return ("seller", "amount", "currency", "paid_on", "reference", "note", "recorded_by",
                "recorded_at")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return self.get_fields(request, obj)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = services.remittance_record(
            actor=request.user, seller=data["seller"], amount_minor=data["amount_minor"],
            currency=data["currency"], paid_on=data["paid_on"], reference=data["reference"],
            note=data.get("note", ""),
        )
        adopt_saved(obj, saved)

    # --- columns --------------------------------------------------------------------------

    @admin.display(description=_("amount"), ordering="amount_minor")
    def amount(self, remittance: Remittance) -> str:
        return format_money(remittance.amount_minor, remittance.currency)

    @admin.display(description=_("statement"))
    def statement(self, remittance: Remittance) -> str:
        url = reverse("admin:sellers_remittance_statement")
        return format_html('<a href="{}?seller={}">{}</a>', url, remittance.seller_id,
                           _("Cash statement"))

    # --- the statement pages --------------------------------------------------------------

    def get_urls(self):
        def wrap(view):
            return self.admin_site.admin_view(never_cache(view))

        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("statement/", wrap(self.statement_view), name=f"{prefix}_statement"),
            path("statement.csv", wrap(self.statement_csv_view), name=f"{prefix}_statement_csv"),
            path("remittances.csv", wrap(self.remittances_csv_view),
                 name=f"{prefix}_remittances_csv"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        # A seller's remittances are on their statement, with the cash they pay off.
        if actor_seller(request.user) is not None:
            return HttpResponseRedirect(reverse("admin:sellers_remittance_statement"))
        return super().changelist_view(request, extra_context)

    def _resolve(self, request: HttpRequest) -> tuple[Seller | None, dict]:
        form = StatementQuery(request.GET)
        if not form.is_valid():
            raise BadQuery(form.errors)
        query = form.cleaned_data
        try:
            seller = selectors.cash_seller_resolve(actor=request.user,
                                                   requested=query["seller"])
        except Seller.DoesNotExist:
            raise Http404("No such seller.") from None
        return seller, query

    def _guarded(self, request: HttpRequest, build) -> HttpResponse:
        try:
            seller, query = self._resolve(request)
            return build(seller, query)
        except BadQuery as exc:
            return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
        except ValidationError as exc:
            return HttpResponse(" ".join(exc.messages), status=400,
                                content_type="text/plain; charset=utf-8")

    def statement_view(self, request: HttpRequest) -> HttpResponse:
        def build(seller, query):
            is_staff = actor_seller(request.user) is None
            statement = (selectors.cash_statement_get(seller=seller, month=query["month"])
                         if seller is not None else None)
            seller_query = f"seller={seller.pk}&" if seller is not None and is_staff else ""
            context = {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": (_("Cash on delivery: %(name)s") % {"name": seller.display_name}
                          if seller else _("Cash on delivery")),
                "seller": seller,
                "statement": statement,
                "is_staff": is_staff,
                "sellers": selectors.sellers_for_picker() if is_staff else [],
                "seller_query": seller_query,
                "may_add": self.has_add_permission(request),
                "today": timezone.localdate(),
            }
            return TemplateResponse(request, "sellers/remittance_statement.html", context)

        return self._guarded(request, build)

    def _csv(self, rows, header, name: str) -> StreamingHttpResponse:
        response = StreamingHttpResponse(csv_lines(header, rows),
                                         content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response

    def statement_csv_view(self, request: HttpRequest) -> HttpResponse:
        def build(seller, query):
            if seller is None:
                raise BadQuery({"seller": ["Choose a seller."]})
            statement = selectors.cash_statement_get(seller=seller, month=query["month"])
            rows = (
                [d.day.isoformat(), d.currency,
                 *(str(minor_to_decimal(minor, d.currency))
                   for minor in (d.collected_minor, d.remitted_minor, d.owed_minor))]
                for d in reversed(statement.days)
            )
            return self._csv(rows, STATEMENT_HEADER,
                             f"cash-{seller.slug}-{query['month']:%Y-%m}")

        return self._guarded(request, build)

    def remittances_csv_view(self, request: HttpRequest) -> HttpResponse:
        def build(seller, query):
            if seller is None:
                raise BadQuery({"seller": ["Choose a seller."]})
            rows = (
                [r.paid_on.isoformat(), r.currency,
                 str(minor_to_decimal(r.amount_minor, r.currency)), r.reference, r.note,
                 r.recorded_at.isoformat()]
                for r in selectors.remittances_for_export(seller_id=seller.pk)
            )
            return self._csv(rows, REMITTANCES_HEADER, f"remittances-{seller.slug}")

        return self._guarded(request, build)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self.has_delete_permission(request):
            actions.pop("delete_selected", None)
        return actions


@admin.register(SellerApplication)
class SellerApplicationAdmin(admin.ModelAdmin):
    """Sign-ups waiting for staff: approve, or refuse with a reason. Never shown to sellers."""

    list_display = ("submitted_at", "display_name", "phone", "region", "email", "status",
                    "decided_by")
    list_filter = ("status",)
    list_select_related = ("region", "decided_by")
    search_fields = ("display_name", "phone", "email")
    ordering = ("status", "submitted_at")
    fields = ("display_name", "phone", "region", "email", "terms_version", "submitted_at",
              "status", "reason", "decided_at", "decided_by", "seller")
    readonly_fields = fields
    actions = ["approve", "refuse"]

    def _staff_may(self, request: HttpRequest, perm: str) -> bool:
        return (actor_sees_all(request.user)
                and request.user.has_perm(f"sellers.{perm}_sellerapplication"))

    def has_module_permission(self, request):
        return self._staff_may(request, "view")

    def has_view_permission(self, request, obj=None):
        return self._staff_may(request, "view")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # Decisions go through the actions (and their service); nothing is typed over.
        return self._staff_may(request, "change") and obj is None

    def has_delete_permission(self, request, obj=None):
        return self._staff_may(request, "delete")

    def _report(self, request, done: list[str], refused: list[str], verb) -> None:
        if done:
            self.message_user(request, f"{verb}: {', '.join(done)}", messages.SUCCESS)
        if refused:
            self.message_user(request, " ".join(refused), messages.ERROR)

    @admin.action(description=_("Approve: they can start selling"), permissions=["change"])
    def approve(self, request, queryset):
        done, refused = [], []
        for application in queryset:
            try:
                signup.seller_application_approve(actor=request.user,
                                                  application_id=application.pk)
                done.append(application.display_name)
            except (ValidationError, PermissionDenied) as exc:
                refused.append(" ".join(getattr(exc, "messages", [str(exc)])))
        self._report(request, done, refused, _("Approved"))

    @admin.action(description=_("Refuse, with a reason…"), permissions=["change"])
    def refuse(self, request, queryset):
        form = RefuseForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            done, refused = [], []
            for application in queryset:
                try:
                    signup.seller_application_refuse(
                        actor=request.user, application_id=application.pk,
                        reason=form.cleaned_data["reason"])
                    done.append(application.display_name)
                except (ValidationError, PermissionDenied) as exc:
                    refused.append(" ".join(getattr(exc, "messages", [str(exc)])))
            self._report(request, done, refused, _("Refused"))
            return None
        # The second step: the same selection, and the reason to give.
        return TemplateResponse(request, "sellers/application_refuse.html", {
            **self.admin_site.each_context(request),
            "opts": self.opts, "title": _("Refuse seller applications"), "form": form,
            "applications": queryset, "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        })
