"""Analytics pages inside the admin: a seller's listings and audience, staff's growth and ranking.

Registered as a ModelAdmin of `Snapshot` whose URLs are replaced by these
read-only dashboards, so they sit in the admin index, behind the admin's
login (`admin_site.admin_view`), with its look and its CSRF and cache headers.
Who sees what is decided by `analytics.selectors` from the catalog's rule: a
seller gets their own figures only, whatever the URL asks for; staff need the
"view analytics" permission and may open any seller's figures.
"""

from __future__ import annotations

from datetime import UTC

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from catalog.models import Seller
from orders.models import orders_setting
from personalization.models import LifecycleStage
from personalization.selectors_profiles import ranking_fit_get

from . import exports, selectors, svg
from .conf import get_config
from .models import Snapshot


class DashboardQuery(forms.Form):
    """The query string of every dashboard: bad values are a 400, never silently dropped."""

    seller = forms.IntegerField(required=False, min_value=1)
    page = forms.IntegerField(required=False, min_value=1)


class BadQuery(Exception):
    def __init__(self, errors: dict) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))


@admin.register(Snapshot)
class AnalyticsAdmin(admin.ModelAdmin):
    """The dashboards; the snapshots themselves are never edited by hand."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return selectors.actor_may_view(request.user)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return selectors.actor_may_view(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_urls(self):
        def wrap(view):
            return self.admin_site.admin_view(never_cache(view))

        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            # The changelist name is what the admin index links to.
            path("", wrap(self.listings_view), name=f"{prefix}_changelist"),
            path("audience/", wrap(self.audience_view), name=f"{prefix}_audience"),
            path("growth/", wrap(self.growth_view), name=f"{prefix}_growth"),
            path("ranking/", wrap(self.ranking_view), name=f"{prefix}_ranking"),
            path("notifications/", wrap(self.notifications_view),
                 name=f"{prefix}_notifications"),
            path("export/<slug:table>.csv", wrap(self.export_view), name=f"{prefix}_export"),
        ]

    # --- shared --------------------------------------------------------------------------

    def _query(self, request: HttpRequest) -> dict:
        form = DashboardQuery(request.GET)
        if not form.is_valid():
            raise BadQuery(form.errors)
        return form.cleaned_data

    def _dispatch(self, request: HttpRequest, build, *, staff_only: bool = False,
                  needs_seller: bool = False) -> HttpResponse:
        if not selectors.actor_may_view(request.user):
            raise PermissionDenied
        if staff_only and not selectors.actor_sees_shop(request.user):
            raise PermissionDenied
        try:
            query = self._query(request)
            seller = None
            if needs_seller:
                seller = selectors.analytics_seller_resolve(actor=request.user,
                                                            requested=query["seller"])
            elif query["seller"] is not None:
                raise BadQuery({"seller": ["This page is not per seller."]})
            snapshot = selectors.snapshot_active_get()
            return build(request, query=query, seller=seller, snapshot=snapshot)
        except BadQuery as exc:
            return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
        except Seller.DoesNotExist as exc:
            raise Http404(str(exc)) from None

    def _render(self, request: HttpRequest, template: str, *, title: str, tab: str,
                seller, snapshot, **extra) -> TemplateResponse:
        sees_shop = selectors.actor_sees_shop(request.user)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "tab": tab,
            "seller": seller,
            "snapshot": snapshot,
            "sees_shop": sees_shop,
            "sellers": selectors.sellers_for_picker() if sees_shop and tab in (
                "listings", "audience") else [],
            "seller_query": f"?seller={seller.pk}" if seller and sees_shop else "",
            "k": selectors.k_threshold(),
            **extra,
        }
        return TemplateResponse(request, template, context)

    # --- pages ---------------------------------------------------------------------------

    def listings_view(self, request: HttpRequest) -> HttpResponse:
        def build(request, *, query, seller, snapshot):
            extra = {}
            if seller is not None and snapshot is not None:
                try:
                    page = selectors.seller_listings_get(
                        snapshot=snapshot, seller_id=seller.pk, page=query["page"] or 1
                    )
                except ValueError as exc:
                    raise BadQuery({"page": [str(exc)]}) from None
                funnel = page.funnel
                extra = {
                    "page": page,
                    "funnel": funnel,
                    "funnel_chart": svg.bar_chart(
                        [(str(_("Impressions")), funnel.impressions),
                         (str(_("Clicks")), funnel.clicks),
                         (str(_("Added to cart")), funnel.carts),
                         (str(_("Orders")), funnel.orders)],
                        label=str(_("Funnel over the last %(d)s days: impressions, clicks, "
                                    "add-to-cart, orders") % {"d": snapshot.window_days}),
                    ),
                    "slow_movers": selectors.seller_slow_movers_get(
                        snapshot=snapshot, seller_id=seller.pk
                    ),
                    "referrals": selectors.seller_referrals_get(
                        snapshot=snapshot, seller_id=seller.pk
                    ),
                    "referral_days": orders_setting("ORDERS_REFERRAL_WINDOW_DAYS"),
                }
            return self._render(request, "analytics/dashboard_listings.html",
                                title=_("Listings analytics"), tab="listings", seller=seller,
                                snapshot=snapshot, **extra)

        return self._dispatch(request, build, needs_seller=True)

    def audience_view(self, request: HttpRequest) -> HttpResponse:
        def build(request, *, query, seller, snapshot):
            extra = {}
            if seller is not None and snapshot is not None:
                cells = selectors.seller_segments_get(snapshot=snapshot, seller_id=seller.pk)
                extra = {"segments": [
                    (name, title, export, cells[name], self._segment_chart(cells[name], title))
                    for name, title, export in (
                        ("region", _("region"), "audience-region"),
                        ("demographic", _("age band and gender"), "audience-age-gender"),
                    )
                ]}
            return self._render(request, "analytics/dashboard_audience.html",
                                title=_("Who engages"), tab="audience", seller=seller,
                                snapshot=snapshot, **extra)

        return self._dispatch(request, build, needs_seller=True)

    @staticmethod
    def _segment_chart(cells: list[selectors.SegmentCell], title) -> str:
        """Return the bar chart of the cells that may be shown ("" when none may)."""
        shown = [(c.label, c.shoppers) for c in cells if not c.suppressed]
        if not shown:
            return ""
        return svg.bar_chart(shown, label=str(_("Shoppers engaging, by %(d)s") % {"d": title}))

    @staticmethod
    def _cohort_chart(rows: list[selectors.CohortRow], thresholds: list[int], title) -> str:
        """Return the heatmap of cohort shares; suppressed cohorts are grey "<k" rows."""
        return svg.heatmap(
            [(r.label, [None] * len(thresholds) if r.suppressed else r.reached_percent)
             for r in rows],
            columns=[f"≥{n}" for n in thresholds],
            hidden_text=f"<{selectors.k_threshold()}",
            label=str(_("Share of shoppers reaching 1 to %(n)s orders within the habit "
                        "window, by %(d)s") % {"n": thresholds[-1], "d": title}),
        )

    def growth_view(self, request: HttpRequest) -> HttpResponse:
        def build(request, *, query, seller, snapshot):
            extra = {}
            if snapshot is not None:
                thresholds = selectors.habit_thresholds()
                cohorts = selectors.cohorts_get(snapshot=snapshot)
                stages = selectors.stages_get(snapshot=snapshot)
                labels = dict(LifecycleStage.choices)
                extra = {
                    "thresholds": thresholds,
                    "cohort_tables": [
                        (name, title, export, cohorts[name],
                         self._cohort_chart(cohorts[name], thresholds, title))
                        for name, title, export in (
                            ("week", _("week of first visit"), "cohorts-week"),
                            ("region", _("region"), "cohorts-region"),
                        )
                    ],
                    "stages": [(labels.get(s.stage, s.stage), s.shoppers) for s in stages],
                    "stages_chart": svg.bar_chart(
                        [(str(labels.get(s.stage, s.stage)), s.shoppers) for s in stages],
                        label=str(_("Shoppers by lifecycle stage")),
                    ),
                }
            return self._render(request, "analytics/dashboard_growth.html",
                                title=_("Growth: habit cohorts"), tab="growth", seller=None,
                                snapshot=snapshot, **extra)

        return self._dispatch(request, build, staff_only=True)

    def ranking_view(self, request: HttpRequest) -> HttpResponse:
        def build(request, *, query, seller, snapshot):
            extra = {"fit": ranking_fit_get()}
            if snapshot is not None:
                health = selectors.ranking_health_get(snapshot=snapshot)
                contexts = selectors.contexts_get(snapshot=snapshot)
                volumes = selectors.volumes_get(snapshot=snapshot)
                extra = {
                    **extra,
                    "health": health,
                    "contexts": contexts,
                    "contexts_chart": svg.bar_chart(
                        [(c.context, c.ctr_percent) for c in contexts], suffix="%",
                        label=str(_("Click-through by where the listing was seen")),
                    ),
                    "days": volumes["day"],
                    "hours": volumes["hour"],
                    "days_chart": svg.sparkline(
                        [v.events for v in volumes["day"]],
                        label=str(_("Events per day, last %(d)s days")
                                  % {"d": snapshot.window_days}),
                    ),
                    "hours_chart": svg.sparkline(
                        [v.events for v in volumes["hour"]],
                        label=str(_("Events per hour, last %(h)s hours")
                                  % {"h": len(volumes["hour"])}),
                    ),
                }
            return self._render(request, "analytics/dashboard_ranking.html",
                                title=_("Ranking health and events"), tab="ranking",
                                seller=None, snapshot=snapshot, **extra)

        return self._dispatch(request, build, staff_only=True)

    def notifications_view(self, request: HttpRequest) -> HttpResponse:
        def build(request, *, query, seller, snapshot):
            extra = {}
            if snapshot is not None:
                stats = selectors.notification_stats_get(snapshot=snapshot)
                extra = {
                    "after_days": get_config()["ORDERS_AFTER_CLICK_DAYS"],
                    "tables": [
                        (name, title, f"notifications-{name}", stats[name],
                         self._click_chart(stats[name], title))
                        for name, title in (("campaign", _("campaign")),
                                            ("region", _("region")),
                                            ("demographic", _("age band and gender")),
                                            ("kind", _("kind of message")))
                    ],
                }
            return self._render(request, "analytics/dashboard_notifications.html",
                                title=_("Notifications"), tab="notifications", seller=None,
                                snapshot=snapshot, **extra)

        return self._dispatch(request, build, staff_only=True)

    @staticmethod
    def _click_chart(rows: list[selectors.NotificationRow], title) -> str:
        """Return the click-through bars of the cells that may be shown ("" when none may)."""
        shown = [(r.label, r.click_percent) for r in rows
                 if not r.suppressed and r.click_percent is not None]
        if not shown:
            return ""
        return svg.bar_chart(shown, suffix="%", label=str(
            _("Taps per message sent, by %(d)s") % {"d": title}))

    def export_view(self, request: HttpRequest, table: str) -> HttpResponse:
        spec = exports.export_tables().get(table)
        if spec is None:
            raise Http404("No such table.")

        def build(request, *, query, seller, snapshot):
            if snapshot is None:
                raise Http404("No figures yet: run refresh_analytics.")
            if spec.staff_only:
                rows = spec.rows(snapshot=snapshot)
                name = table
            else:
                if seller is None:
                    raise BadQuery({"seller": ["Choose a seller."]})
                rows = spec.rows(snapshot=snapshot, seller_id=seller.pk)
                name = f"{table}-seller-{seller.pk}"
            response = StreamingHttpResponse(
                exports.csv_lines(spec, rows), content_type="text/csv; charset=utf-8"
            )
            stamp = snapshot.as_of.astimezone(UTC).strftime("%Y%m%dT%H%MZ")
            response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
            return response

        return self._dispatch(request, build, staff_only=spec.staff_only,
                              needs_seller=not spec.staff_only)
