"""All models, importable from one place."""

from scanapp.models.api import ApiToken
from scanapp.models.ledger import MOVEMENT_KINDS, Balance, Event, Movement
from scanapp.models.lots import ATTRIBUTES, CATEGORIES, CATEGORY_CODES, DEFAULT_WEIGHT_UNIT, Document, Item, Lot
from scanapp.models.stores import LOCATION_KINDS, PHYSICAL_KINDS, UNBOUNDED_KINDS, VIRTUAL_KINDS, Location, Store
from scanapp.models.suppliers import Supplier
from scanapp.models.tags import CODE_RE, Tag
from scanapp.models.transfers import RESOLUTIONS, TRANSFER_STATUSES, Transfer, TransferLine
from scanapp.models.users import ROLES, User, user_stores

__all__ = [
    "ATTRIBUTES", "CATEGORIES", "CATEGORY_CODES", "CODE_RE", "DEFAULT_WEIGHT_UNIT", "LOCATION_KINDS",
    "MOVEMENT_KINDS", "PHYSICAL_KINDS", "RESOLUTIONS", "ROLES", "TRANSFER_STATUSES", "UNBOUNDED_KINDS",
    "VIRTUAL_KINDS",
    "ApiToken", "Balance", "Document", "Event", "Item", "Location", "Lot", "Movement", "Store", "Supplier", "Tag",
    "Transfer", "TransferLine", "User", "user_stores",
]  # fmt: skip
from scanapp.models.audit import AUDIT_ACTIONS, AppendOnly, AuditEntry  # noqa: E402,F401
from scanapp.models.bench import Component, WorkOrder  # noqa: E402,F401
from scanapp.models.counts import COUNT_STATUSES, Count, CountLine, CountRecount  # noqa: E402,F401
from scanapp.models.inspections import INSPECTION_RESULTS, POINT_RESULTS, Inspection, Photo  # noqa: E402, F401
from scanapp.models.returns import RETURN_CONDITIONS, RETURN_DISPOSITIONS, Return, ReturnReason, return_photos  # noqa: E402,F401,E501
