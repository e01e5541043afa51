"""The OpenAPI 3.1 document of /api/v1, as data, and the JSON Schemas in it that check request bodies.

One source of truth: the API validates each request body against `components.schemas` of this very document,
and the tests validate each response against the schemas the document names for it.
"""

from functools import cache

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

CODE = {
    "type": "string",
    "pattern": "^[A-Za-z0-9][A-Za-z0-9-]{0,31}$",
    "description": "A tag code (case-insensitive).",
}
MAX_CURSOR = 2**31 - 1  # the largest `since` the movements feed takes: a movement id (INTEGER) fits
PIECES = {"type": "integer", "minimum": 0, "maximum": 1000000}
# Decimals travel as strings, so that no float ever touches a weight or a sum of money.
WEIGHT_IN = {"type": "string", "pattern": r"^[0-9]{1,12}(\.[0-9]{1,3})?$", "examples": ["3.600"]}
MONEY_IN = {"type": "string", "pattern": r"^[0-9]{1,13}(\.[0-9]{1,2})?$", "examples": ["1250.00"]}
WEIGHT_OUT = {"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{3}$"}
MONEY_OUT = {"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$"}
NO_NUL = r"^[^\x00]*$"  # PostgreSQL cannot store NUL in text
EVENT_ID = {"type": "string", "format": "uuid", "description": "The client's id of this request (idempotency)."}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict, required: list[str], **extra) -> dict:
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False, **extra}


def _nullable(schema: dict) -> dict:
    return {"oneOf": [schema, {"type": "null"}]}


SCHEMAS: dict[str, dict] = {
    "Code": CODE,
    "Pieces": PIECES,
    "WeightIn": WEIGHT_IN,
    "MoneyIn": MONEY_IN,
    "Weight": WEIGHT_OUT,
    "Money": MONEY_OUT,
    "EventId": EVENT_ID,
    # Requests
    "ItemLine": _object({"item": ref("Code")}, ["item"], description="One item: it moves from where it is."),
    "LotLine": _object(
        {"lot": ref("Code"), "from": ref("Code"), "pieces": ref("Pieces"), "weight": ref("WeightIn")},
        ["lot", "from"],
        description="Pieces and weight of a lot taken from a location (by its tag code).",
    ),
    "Line": {"oneOf": [ref("ItemLine"), ref("LotLine")]},
    "MoveRequest": _object(
        {
            "event_id": ref("EventId"),
            "to": ref("Code"),
            "lines": {"type": "array", "items": ref("Line"), "minItems": 1, "maxItems": 500},
            "note": {"type": "string", "maxLength": 500, "pattern": NO_NUL},
        },
        ["to", "lines"],
    ),
    "ItemSaleLine": _object({"item": ref("Code"), "price": ref("MoneyIn")}, ["item", "price"]),
    "LotSaleLine": _object(
        {
            "lot": ref("Code"),
            "from": ref("Code"),
            "pieces": ref("Pieces"),
            "weight": ref("WeightIn"),
            "price": ref("MoneyIn"),
        },
        ["lot", "from", "price"],
    ),
    "SaleRequest": _object(
        {
            "event_id": ref("EventId"),
            "receipt": {"type": "string", "minLength": 1, "maxLength": 80, "pattern": NO_NUL},
            "lines": {
                "type": "array",
                "items": {"oneOf": [ref("ItemSaleLine"), ref("LotSaleLine")]},
                "minItems": 1,
                "maxItems": 500,
            },
        },
        ["receipt", "lines"],
    ),
    "ReturnRequest": {
        "oneOf": [
            _object(
                {
                    "event_id": ref("EventId"),
                    "item": ref("Code"),
                    "to": ref("Code"),
                    "receipt": {"type": "string", "maxLength": 80, "pattern": NO_NUL},
                    "refund": ref("MoneyIn"),
                },
                ["item", "to"],
                title="Item return",
            ),
            _object(
                {
                    "event_id": ref("EventId"),
                    "lot": ref("Code"),
                    "pieces": ref("Pieces"),
                    "weight": ref("WeightIn"),
                    "to": ref("Code"),
                    "receipt": {"type": "string", "minLength": 1, "maxLength": 80, "pattern": NO_NUL},
                    "refund": ref("MoneyIn"),
                },
                ["lot", "to", "receipt"],
                title="Lot return",
            ),
        ]
    },
    # Responses
    "Error": _object(
        {
            "error": _object(
                {"message": {"type": "string", "minLength": 1}, "field": _nullable({"type": "string"})},
                ["message", "field"],
            )
        },
        ["error"],
    ),
    "LocationRef": _object(
        {
            "id": {"type": "integer"},
            "code": {"type": "string"},
            "name": {"type": "string"},
            "kind": {"type": "string"},
            "store": {"type": "string"},
        },
        ["id", "code", "name", "kind", "store"],
    ),
    "Balance": _object(
        {"location": ref("LocationRef"), "pieces": {"type": "integer"}, "weight": ref("Weight")},
        ["location", "pieces", "weight"],
    ),
    "Cost": _object(
        {"total": ref("Money"), "per_piece": _nullable(ref("Money")), "per_weight": _nullable(ref("Money"))},
        ["total", "per_piece", "per_weight"],
        description="Only for roles that may see cost.",
    ),
    "LotTag": _object(
        {
            "kind": {"const": "lot"},
            "id": {"type": "integer"},
            "number": {"type": "string"},
            "description": {"type": "string"},
            "category": {"type": "string"},
            "weight_unit": _nullable({"enum": ["ct", "g"]}),
            "balances": {"type": "array", "items": ref("Balance")},
            "cost": ref("Cost"),
        },
        ["kind", "id", "number", "description", "category", "weight_unit", "balances"],
    ),
    "ItemTag": _object(
        {
            "kind": {"const": "item"},
            "id": {"type": "integer"},
            "serial": {"type": "string"},
            "certificate": {"type": "string"},
            "description": {"type": "string"},
            "weight": ref("Weight"),
            "lot": {"type": "string"},
            "location": ref("LocationRef"),
            "cost": ref("Cost"),
        },
        ["kind", "id", "serial", "certificate", "description", "weight", "lot", "location"],
    ),
    "LocationTag": _object(
        {
            "kind": {"const": "location"},
            "id": {"type": "integer"},
            "code": {"type": "string"},
            "name": {"type": "string"},
            "location_kind": {"type": "string"},
            "balances": {
                "type": "array",
                "items": _object(
                    {"lot": {"type": "string"}, "pieces": {"type": "integer"}, "weight": ref("Weight")},
                    ["lot", "pieces", "weight"],
                ),
            },
        },
        ["kind", "id", "code", "name", "location_kind", "balances"],
    ),
    "Tag": {"oneOf": [ref("LotTag"), ref("ItemTag"), ref("LocationTag")]},
    "Movement": _object(
        {
            "id": {"type": "integer"},
            "event_id": {"type": "string", "format": "uuid"},
            "line": {"type": "integer"},
            "kind": {"type": "string"},
            "lot": {"type": "string"},
            "item": _nullable({"type": "string"}),
            "from": ref("LocationRef"),
            "to": ref("LocationRef"),
            "pieces": {"type": "integer"},
            "weight": ref("Weight"),
            "amount": _nullable(ref("Money")),
            "reference": {"type": "string"},
            "note": {"type": "string"},
            "user": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
            "reverses": _nullable({"type": "integer"}),
        },
        [
            "id",
            "event_id",
            "line",
            "kind",
            "lot",
            "item",
            "from",
            "to",
            "pieces",
            "weight",
            "amount",
            "reference",
            "note",
            "user",
            "created_at",
            "reverses",
        ],
    ),  # fmt: skip
    "Result": _object(
        {
            "event_id": {"type": "string", "format": "uuid"},
            "replayed": {"type": "boolean"},
            "movements": {"type": "array", "items": ref("Movement"), "minItems": 1},
        },
        ["event_id", "replayed", "movements"],
    ),
    "MovementPage": _object(
        {
            "movements": {"type": "array", "items": ref("Movement")},
            "next_cursor": {"type": "integer", "minimum": 0},
        },
        ["movements", "next_cursor"],
    ),
}


def _json(schema: str) -> dict:
    return {"content": {"application/json": {"schema": ref(schema)}}}


ERRORS = {
    "400": {"description": "The request is malformed or fails the schema.", **_json("Error")},
    "401": {"description": "No valid API token.", **_json("Error")},
    "403": {"description": "The token's role does not allow this.", **_json("Error")},
    "404": {"description": "No such thing in this store.", **_json("Error")},
}
WRITE_ERRORS = {
    **ERRORS,
    "409": {"description": "The idempotency key belongs to another request.", **_json("Error")},
    "422": {"description": "The rules refuse it (e.g. not enough stock); nothing was written.", **_json("Error")},
}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "A UUID, the same for every retry of one request; or send it as `event_id` in the body (sending both, "
        "they must be the same, else 400)."
    ),
    "schema": EVENT_ID,
}


def _write(summary: str, request: str) -> dict:
    return {
        "summary": summary,
        "parameters": [IDEMPOTENCY_KEY],
        "requestBody": {"required": True, **_json(request)},
        "responses": {
            "201": {"description": "Applied.", **_json("Result")},
            "200": {"description": "A replay: the original result, with `replayed: true`.", **_json("Result")},
            **WRITE_ERRORS,
        },
    }


DOCUMENT: dict = {
    "openapi": "3.1.0",
    "info": {
        "title": "scanapp API",
        "version": "1.0.0",
        "description": (
            "Look up tags, move, sell and take back stock, and follow the ledger of one store. Every token "
            "acts as its user in its one store. Weights and money are decimal strings."
        ),
    },
    "servers": [{"url": "/api/v1"}],
    "security": [{"bearer": []}],
    "paths": {
        "/tags/{code}": {
            "get": {
                "summary": "Look up a lot, item or location by its tag code.",
                "parameters": [{"name": "code", "in": "path", "required": True, "schema": ref("Code")}],
                "responses": {"200": {"description": "What the tag is on.", **_json("Tag")}, **ERRORS},
            }
        },
        "/moves": {"post": _write("Move stock to a place of this store.", "MoveRequest")},
        "/sales": {"post": _write("Sell to a customer, with a receipt number and a price per line.", "SaleRequest")},
        "/returns": {"post": _write("Take back a sold item, or lot pieces sold on a receipt.", "ReturnRequest")},
        "/movements": {
            "get": {
                "summary": "The store's movements after a cursor, oldest first.",
                "parameters": [
                    {
                        "name": "since",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 0, "maximum": MAX_CURSOR, "default": 0},
                        "description": "Return movements with an id above this; pass the last `next_cursor`.",
                    },
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
                ],
                "responses": {"200": {"description": "A page of movements.", **_json("MovementPage")}, **ERRORS},
            }
        },
        "/openapi.json": {
            "get": {
                "summary": "This document.",
                "responses": {
                    "200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {}}}},
                    "401": ERRORS["401"],
                },
            }
        },
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "An API token."}},
        "schemas": SCHEMAS,
    },
}


@cache
def validator(schema: str) -> Draft202012Validator:
    """A validator for one of the document's schemas, resolving its references within the document."""
    return Draft202012Validator(
        {"$ref": f"#/components/schemas/{schema}", "components": DOCUMENT["components"]},
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def first_error(schema: str, body) -> tuple[str, str | None] | None:
    """The most telling way `body` fails `schema`, as (message, field path), or None when it is valid."""
    error = best_match(validator(schema).iter_errors(body))
    if error is None:
        return None
    field = "/".join(str(part) for part in error.absolute_path) or None
    return error.message, field
