"""Column types shared by the models."""

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, DateTime, Numeric
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every database (SQLite hands back naive ones otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given; use scanapp.models.types.utcnow()")
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Fixed(TypeDecorator):
    """An exact decimal with `scale` places, read and written as `Decimal`.

    PostgreSQL stores NUMERIC(18, scale). SQLite has no exact decimal (its NUMERIC is a float), so there the value
    is stored as an integer count of 10**-scale units: sums and the ledger's guarded `weight >= :w` stay exact.
    """

    impl = Numeric
    cache_ok = True

    def __init__(self, scale: int, precision: int = 18):
        self.scale = scale
        self.quantum = Decimal(1).scaleb(-scale)
        super().__init__(precision=precision, scale=scale, asdecimal=True)

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(18, self.scale))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("floats are not accepted for exact quantities; pass a Decimal")
        value = Decimal(value).quantize(self.quantum)
        return int(value.scaleb(self.scale)) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-self.scale).quantize(self.quantum)
        return Decimal(value).quantize(self.quantum)

    @property
    def python_type(self):
        return Decimal
