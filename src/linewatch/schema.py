"""Every table of every domain, imported in one place for migrations and tests."""

from linewatch.access import models as access_models
from linewatch.db import audit as audit_models
from linewatch.db.base import Base
from linewatch.inventory import models as inventory_models

metadata = Base.metadata
__all__ = ["access_models", "audit_models", "inventory_models", "metadata"]
