"""Every table of every domain, imported in one place for migrations and tests."""

from linewatch.access import models as access_models
from linewatch.alarms import models as alarm_models
from linewatch.assurance import models as assurance_models
from linewatch.cutovers import models as cutover_models
from linewatch.db import audit as audit_models
from linewatch.db import outbox as outbox_models
from linewatch.db import timers as timer_models
from linewatch.db.base import Base
from linewatch.incidents import models as incident_models
from linewatch.inventory import models as inventory_models
from linewatch.notify import models as notify_models
from linewatch.reports import models as report_models
from linewatch.tickets import models as ticket_models

metadata = Base.metadata
__all__ = [
    "access_models",
    "alarm_models",
    "assurance_models",
    "audit_models",
    "cutover_models",
    "incident_models",
    "inventory_models",
    "metadata",
    "notify_models",
    "outbox_models",
    "report_models",
    "ticket_models",
    "timer_models",
]
