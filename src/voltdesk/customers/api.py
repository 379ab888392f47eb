"""Customers, their sites and contracts over the API, scoped by ``core.access``."""

import datetime as dt

from django.db.models import Exists, F, OuterRef, Q
from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja.pagination import paginate

from voltdesk.api.auth import require_view
from voltdesk.api.pagination import LimitOffset
from voltdesk.api.params import CustomerRef, Search, SiteRef
from voltdesk.core.access import visible_contracts, visible_customers, visible_sites

router = Router(tags=["customers"])


class CustomerOut(Schema):
    ref: str
    name: str
    kind: str
    language: str
    phone: str
    email: str
    address: str
    created_at: dt.datetime


class SiteOut(Schema):
    ref: str
    customer: str | None  # the holder now; null when the user may not see the holder
    address: str
    area: str | None
    feeder: str | None
    voltage_level: str
    critical_load: bool

    @staticmethod
    def resolve_customer(obj):
        return obj.customer.ref if obj.holder_visible else None

    @staticmethod
    def resolve_area(obj):
        return obj.area.name if obj.area_id else None

    @staticmethod
    def resolve_feeder(obj):
        return obj.feeder.name if obj.feeder_id else None


class ContractOut(Schema):
    id: int
    site: str
    supplier: str | None
    tariff: str | None
    start: dt.datetime | None
    end: dt.datetime | None

    @staticmethod
    def resolve_site(obj):
        return obj.site.ref

    @staticmethod
    def resolve_supplier(obj):
        return obj.supplier.name if obj.supplier_id else None

    @staticmethod
    def resolve_tariff(obj):
        return obj.tariff.name if obj.tariff_id else None


def sites_for(user):
    """Visible sites, each marked with whether the user may see its current holder.

    A customer that once held a site still sees the site, but must not learn who
    holds it now.
    """
    holder = visible_customers(user).filter(pk=OuterRef("customer_id"))
    return (
        visible_sites(user)
        .select_related("customer", "area", "feeder")
        .annotate(holder_visible=Exists(holder))
    )


def get_customer(user, ref: str):
    return get_object_or_404(visible_customers(user), ref=ref)


@router.get("/customers", response=list[CustomerOut], summary="List customers")
@paginate(LimitOffset)
def list_customers(request, q: Search = ""):
    user = require_view(request, "customers.view_customer")
    customers = visible_customers(user)
    if q:
        customers = customers.filter(Q(ref__istartswith=q) | Q(name__icontains=q))
    return customers.order_by("ref")


@router.get("/customers/{ref}", response=CustomerOut, summary="A customer")
def get_customer_detail(request, ref: CustomerRef):
    user = require_view(request, "customers.view_customer")
    return get_customer(user, ref)


@router.get("/customers/{ref}/sites", response=list[SiteOut], summary="A customer's sites")
@paginate(LimitOffset)
def list_customer_sites(request, ref: CustomerRef):
    user = require_view(request, "customers.view_site")
    customer = get_customer(user, ref)
    # Sites it holds now or held under a contract, as the access rules allow.
    return (
        sites_for(user)
        .filter(Q(customer=customer) | Q(contracts__customer=customer))
        .distinct()
        .order_by("ref")
    )


@router.get(
    "/customers/{ref}/contracts", response=list[ContractOut], summary="A customer's contracts"
)
@paginate(LimitOffset)
def list_customer_contracts(request, ref: CustomerRef):
    user = require_view(request, "customers.view_contract")
    customer = get_customer(user, ref)
    return (
        visible_contracts(user)
        .filter(customer=customer)
        .select_related("site", "supplier", "tariff")
        .order_by("site__ref", F("start").asc(nulls_first=True), "pk")
    )


@router.get("/sites/{ref}", response=SiteOut, summary="A site (service point)")
def get_site(request, ref: SiteRef):
    user = require_view(request, "customers.view_site")
    return get_object_or_404(sites_for(user), ref=ref)
