"""Order handling in the admin.

Sellers see and act on their own order lines only (the queryset is scoped as
in the catalog admin, and every write goes through a service that checks the
actor again); one order may hold lines of several sellers, so sellers never
see the order as a whole. Staff see every order and line and reconcile cash
on delivery. Nothing is added or deleted here: orders are accounting records.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache

from catalog.admin import SellerScopedAdmin
from catalog.money import decimal_to_minor, format_money, minor_to_decimal
from catalog.services import actor_sees_all, actor_seller

from . import services
from .models import CASH_TAKING_STATUSES, LINE_TRANSITIONS, LineStatus, Order, OrderLine


def _money(minor: int | None, currency: str) -> str:
    return "" if minor is None else format_money(minor, currency)


class OrderLineAdminForm(forms.ModelForm):
    """Only two things change on a line: its status and the cash collected for it."""

    new_status = forms.ChoiceField(label=_("Status"), choices=())
    cod_collected = forms.DecimalField(
        label=_("Cash collected"), required=False, min_value=Decimal(0), decimal_places=2,
        max_digits=12, help_text=_("The cash the courier took for this line, e.g. 998.00."),
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )

    class Meta:
        model = OrderLine
        fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        line = self.instance
        allowed = [line.status, *sorted(LINE_TRANSITIONS.get(line.status, ()))]
        self.fields["new_status"].choices = [(s, LineStatus(s).label) for s in allowed]
        self.fields["new_status"].initial = line.status
        if line.cod_collected_minor is not None:
            self.fields["cod_collected"].initial = minor_to_decimal(
                line.cod_collected_minor, line.currency
            )
        if line.cod_reconciled_at is not None:
            self.fields["cod_collected"].disabled = True

    def clean_cod_collected(self) -> int | None:
        amount = self.cleaned_data.get("cod_collected")
        if amount is None:
            return None
        try:
            minor = decimal_to_minor(amount, self.instance.currency)
        except ValueError:
            raise ValidationError(_("Use at most two decimal places.")) from None
        if minor > self.instance.line_total_minor:
            raise ValidationError(
                _("That is more than the line's total of %(t)s."),
                params={"t": _money(self.instance.line_total_minor, self.instance.currency)},
            )
        return minor

    def clean(self):
        cleaned = super().clean()
        status = cleaned.get("new_status")
        cod = cleaned.get("cod_collected")
        effective = status or self.instance.status
        if (
            cod is not None
            and cod != self.instance.cod_collected_minor
            and effective not in CASH_TAKING_STATUSES
        ):
            self.add_error("cod_collected",
                           _("Cash is collected on delivery: ship the line first."))
        return cleaned


class CodFilter(admin.SimpleListFilter):
    title = _("cash on delivery")
    parameter_name = "cod"

    def lookups(self, request, model_admin):
        return [("due", _("Not collected yet")), ("collected", _("Collected, not reconciled")),
                ("reconciled", _("Reconciled"))]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "due":
            return queryset.filter(cod_collected_at__isnull=True).exclude(
                status__in=[LineStatus.CANCELLED, LineStatus.RETURNED])
        if value == "collected":
            return queryset.filter(cod_collected_at__isnull=False, cod_reconciled_at__isnull=True)
        if value == "reconciled":
            return queryset.filter(cod_reconciled_at__isnull=False)
        return queryset


class NextStepFilter(admin.SimpleListFilter):
    """What the seller has to do next; "to ship today" is everything confirmed, oldest first.

    Every confirmed line is due today: a cash-on-delivery shopper who waits
    longer cancels at the door. The oldest comes first (OrderLineAdmin.get_ordering).
    """

    title = _("next step")
    parameter_name = "step"

    def lookups(self, request, model_admin):
        return [("ship", _("To ship today")), ("deliver", _("To deliver")),
                ("collect", _("Cash to record"))]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "ship":
            return queryset.filter(status=LineStatus.CONFIRMED)
        if value == "deliver":
            # Shipped and out for delivery: both still have to reach the door.
            return queryset.filter(
                status__in=[LineStatus.SHIPPED, LineStatus.OUT_FOR_DELIVERY])
        if value == "collect":
            return queryset.filter(status=LineStatus.DELIVERED, cod_collected_at__isnull=True)
        return queryset


# The label of each next-step button.
STEP_LABELS = {"ship": _("Mark shipped"), "out_for_delivery": _("Out for delivery"),
               "deliver": _("Mark delivered"), "collect": _("Cash collected")}


def _delivery_html(order: Order) -> str:
    """Return the deliver-to block: name, phone (a tap to call), address, region and PIN."""
    if order.anonymised_at:
        return _("(erased at the shopper's request)")
    held = (
        format_html("<br><em>{}</em>", _("The shopper asked to be erased: these details "
                                         "are deleted once the order is delivered and paid."))
        if order.erasure_requested_at else ""
    )
    postal = ""
    if order.postal_code:
        india = order.region.ancestor_codes()[:1] == ["IN"]
        postal = (format_html(" · {} {}", _("PIN"), order.postal_code) if india
                  else format_html(" · {}", order.postal_code))
    return format_html(
        '<span class="ol-to"><strong>{}</strong><br><a href="tel:{}">{}</a><br>{}{}{}{}</span>',
        order.name, order.phone, order.phone,
        format_html_join("", "{}<br>", ((part,) for part in order.address.splitlines())),
        order.region.name, postal, held,
    )


def _reason(exc: Exception) -> str:
    return " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)


def _status_action(status: str, label):
    def action(modeladmin, request, queryset):
        done, refused = 0, []
        for line in queryset:
            try:
                services.order_line_set_status(actor=request.user, line_id=line.pk, status=status)
                done += 1
            except (ValidationError, PermissionDenied) as exc:
                refused.append(f"{line.order.public_id} {line.title}: {_reason(exc)}")
        if done:
            modeladmin.message_user(
                request, ngettext("%(n)d line is now %(s)s.", "%(n)d lines are now %(s)s.", done)
                % {"n": done, "s": LineStatus(status).label.lower()}, messages.SUCCESS)
        if refused:
            modeladmin.message_user(request, " ".join(refused), messages.ERROR)

    action.__name__ = f"mark_{status}"
    action.short_description = label
    action.allowed_permissions = ("change",)
    return action


@admin.register(OrderLine)
class OrderLineAdmin(SellerScopedAdmin):
    """Sellers' order lines: on a phone each row stacks what was sold, where it goes,
    the cash to collect and the next step as one large button (change_list.html)."""

    form = OrderLineAdminForm
    list_display = ("line_card", "deliver_to", "next_step")
    # The card links the order number; a link around the whole cell would
    # swallow the phone link and the buttons.
    list_display_links = None
    list_filter = (NextStepFilter, "status", CodFilter)
    list_select_related = ("order", "seller")
    search_fields = ("order__public_id", "title")
    ordering = ("-order__placed_at", "id")
    readonly_fields = ("order_number", "placed", "seller", "title", "quantity", "unit_price",
                       "line_total", "delivery", "status_changed_at", "cod_collected_at",
                       "cod_reconciled_at")
    fieldsets = (
        (None, {"fields": ("order_number", "placed", "seller", "title", "quantity",
                           "unit_price", "line_total", "delivery")}),
        (_("Handling"), {"fields": ("new_status", "status_changed_at", "cod_collected",
                                    "cod_collected_at", "cod_reconciled_at")}),
    )
    actions = [
        _status_action(LineStatus.SHIPPED, _("Mark shipped")),
        _status_action(LineStatus.OUT_FOR_DELIVERY, _("Mark out for delivery")),
        _status_action(LineStatus.DELIVERED, _("Mark delivered")),
        _status_action(LineStatus.CANCELLED, _("Cancel (puts the stock back)")),
        _status_action(LineStatus.RETURNED, _("Mark returned (puts the stock back)")),
        "collect_cod_in_full",
        "reconcile_cod",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order", "order__region", "seller")

    def get_list_display(self, request):
        if actor_sees_all(request.user):
            return (*self.list_display, "seller", "cod_collected_display", "reconciled")
        return self.list_display

    def changelist_view(self, request, extra_context=None):
        if actor_seller(request.user) is not None:
            extra_context = {"title": _("Your orders"), **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    def get_ordering(self, request):
        if request.GET.get(NextStepFilter.parameter_name) == "ship":
            return ("order__placed_at", "id")
        return super().get_ordering(request)

    def get_urls(self):
        step = path("<int:line_id>/step/", self.admin_site.admin_view(never_cache(self.step_view)),
                    name=f"{self.opts.app_label}_{self.opts.model_name}_step")
        return [step, *super().get_urls()]

    def step_view(self, request: HttpRequest, line_id: int):
        """Take one next step (a button of the list) through orders.services, then go back."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request):
            raise PermissionDenied
        step, _sep, status_seen = request.POST.get("step", "").partition(":")
        try:
            line = services.order_line_step(actor=request.user, line_id=line_id, step=step,
                                            status_seen=status_seen)
        except ValidationError as exc:
            self.message_user(request, _reason(exc), messages.WARNING)
        except PermissionDenied as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            done = {"ship": _("shipped"), "out_for_delivery": _("out for delivery"),
                    "deliver": _("delivered"), "collect": _("cash collected")}[step]
            self.message_user(request, _("%(order)s %(title)s: %(done)s.") % {
                "order": line.order.public_id, "title": line.title, "done": done},
                messages.SUCCESS)
        back = request.POST.get("back", "")
        # Only ever a query string on our own list: never a way off the site.
        if not back.startswith("?") or len(back) > 2000 or "\n" in back or "\r" in back:
            back = ""
        return HttpResponseRedirect(reverse("admin:orders_orderline_changelist") + back)

    # Sellers reach this admin by being sellers, not through model permissions
    # in the Sellers group (which the catalog pins to catalog permissions);
    # the queryset keeps them to their own lines.
    def _may_handle(self, request: HttpRequest, perm: str) -> bool:
        if actor_seller(request.user) is not None:
            return True
        return actor_sees_all(request.user) and request.user.has_perm(f"orders.{perm}_orderline")

    def has_module_permission(self, request):
        return self._may_handle(request, "view")

    def has_view_permission(self, request, obj=None):
        return self._may_handle(request, "view")

    def has_change_permission(self, request, obj=None):
        return self._may_handle(request, "change")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not actor_sees_all(request.user):
            actions.pop("reconcile_cod", None)
        return actions

    def save_model(self, request, obj, form, change):
        # Through the services, which check the actor, the allowed move and
        # restock exactly once; a concurrent change surfaces as a message.
        status = form.cleaned_data.get("new_status")
        if status and status != obj.status:
            services.order_line_set_status(actor=request.user, line_id=obj.pk, status=status)
        cod = form.cleaned_data.get("cod_collected")
        if "cod_collected" in form.changed_data and cod is not None:
            services.order_line_cod_record(actor=request.user, line_id=obj.pk, amount_minor=cod)
        obj.refresh_from_db()

    @admin.display(description=_("order"), ordering="order__public_id")
    def order_number(self, line: OrderLine) -> str:
        return line.order.public_id

    @admin.display(description=_("placed"), ordering="order__placed_at")
    def placed(self, line: OrderLine):
        return line.order.placed_at

    @admin.display(description=_("unit price"))
    def unit_price(self, line: OrderLine) -> str:
        return _money(line.unit_price_minor, line.currency)

    @admin.display(description=_("total"))
    def line_total(self, line: OrderLine) -> str:
        return _money(line.line_total_minor, line.currency)

    @admin.display(description=_("cash collected"))
    def cod_collected_display(self, line: OrderLine) -> str:
        return _money(line.cod_collected_minor, line.currency)

    @admin.display(description=_("reconciled"), boolean=True)
    def reconciled(self, line: OrderLine) -> bool:
        return line.cod_reconciled_at is not None

    @admin.display(description=_("deliver to"))
    def delivery(self, line: OrderLine) -> str:
        return _delivery_html(line.order)

    @admin.display(description=_("deliver to"))
    def deliver_to(self, line: OrderLine) -> str:
        return _delivery_html(line.order)

    @admin.display(description=_("order line"), ordering="order__placed_at")
    def line_card(self, line: OrderLine) -> str:
        """Return the order number (a link), when, what, its status and the cash to collect."""
        if line.status in (LineStatus.CANCELLED, LineStatus.RETURNED):
            cash = ""
        elif line.cod_collected_at is not None:
            cash = format_html('<span class="ol-cash">{} {}</span>', _("Cash collected"),
                               _money(line.cod_collected_minor, line.currency))
        else:
            cash = format_html('<span class="ol-cash ol-due">{} <strong>{}</strong></span>',
                               _("Collect in cash"), _money(line.line_total_minor, line.currency))
        placed = date_format(timezone.localtime(line.order.placed_at), "j M, H:i")
        return format_html(
            '<a class="ol-order" href="{}">{}</a> <span class="ol-when">{}</span>'
            '<span class="ol-what">{} × {}</span>'
            '<span class="ol-status ol-status-{}">{}</span>{}',
            reverse("admin:orders_orderline_change", args=[line.pk]), line.order.public_id,
            placed, line.quantity, line.title, line.status,
            line.get_status_display(), cash,
        )

    @admin.display(description=_("next step"))
    def next_step(self, line: OrderLine) -> str:
        """Return the one button that moves the line on (a submit of the list's form)."""
        step = services.order_line_next_step(line)
        if step is None:
            return format_html('<span class="ol-done">{}</span>', _("Nothing to do"))
        return format_html(
            '<button type="submit" class="ol-step ol-step-{}" formaction="{}" name="step" '
            'value="{}:{}">{}</button>',
            step, reverse("admin:orders_orderline_step", args=[line.pk]), step, line.status,
            STEP_LABELS[step],
        )

    @admin.action(description=_("Record cash collected in full"), permissions=["change"])
    def collect_cod_in_full(self, request, queryset):
        done, refused = 0, []
        for line in queryset:
            try:
                services.order_line_cod_record(actor=request.user, line_id=line.pk,
                                               amount_minor=line.line_total_minor)
                done += 1
            except (ValidationError, PermissionDenied) as exc:
                refused.append(f"{line.order.public_id} {line.title}: {_reason(exc)}")
        if done:
            self.message_user(request, ngettext("Cash recorded for %(n)d line.",
                                                "Cash recorded for %(n)d lines.", done)
                              % {"n": done}, messages.SUCCESS)
        if refused:
            self.message_user(request, " ".join(refused), messages.ERROR)

    @admin.action(description=_("Mark collected cash as reconciled"), permissions=["change"])
    def reconcile_cod(self, request, queryset):
        try:
            count = services.order_lines_cod_reconcile(
                actor=request.user, line_ids=list(queryset.values_list("pk", flat=True)))
        except PermissionDenied as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.message_user(request, ngettext("%(n)d line reconciled.", "%(n)d lines reconciled.",
                                            count) % {"n": count}, messages.SUCCESS)


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    fields = ("seller", "title", "quantity", "unit_price_minor", "currency", "status",
              "cod_collected_minor", "cod_reconciled_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("seller")


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    """Whole orders, for staff only: a seller would see other sellers' lines here."""

    list_display = ("public_id", "placed_at", "name", "region", "total", "payment_status")
    list_filter = ("payment_status", "payment_method")
    list_select_related = ("region",)
    search_fields = ("public_id", "phone")
    date_hierarchy = "placed_at"
    inlines = [OrderLineInline]
    readonly_fields = ("public_id", "shopper", "name", "phone", "address", "postal_code",
                       "region", "currency", "total", "payment_method", "payment_status",
                       "placed_at", "anonymised_at")
    fields = readonly_fields

    @admin.display(description=_("total"), ordering="total_minor")
    def total(self, order: Order) -> str:
        return _money(order.total_minor, order.currency)

    def has_module_permission(self, request):
        return actor_sees_all(request.user) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return actor_sees_all(request.user) and super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
