"""``/v1/customers``: what the bank keeps per customer (its ``customer_ref``) rather than per wallet: the language of
the customer's notifications (node/notifications/).

A customer session acts for its own customer only (another customer is ``403 forbidden``, api/customers.py); a
teller or admin key for any customer of the bank.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api import customers
from api.auth import require_scope
from api.deps import ReadSessionDep, SessionDep, SettingsDep
from api.problems import ProblemKind
from api.routing import route
from api.schemas.customer_sessions import CUSTOMER_REF
from api.schemas.notifications import NotificationSettingsIn, NotificationSettingsOut
from node.api_keys import Principal, Scope
from node.notifications import service as notifications

router = APIRouter(prefix="/v1/customers", tags=["notifications"])

CustomerSettingsKey = Annotated[Principal, require_scope(Scope.APP, Scope.TELLER, Scope.ADMIN)]
CustomerRefPath = Annotated[str, Path(pattern=CUSTOMER_REF, description="the bank's customer number")]

_PROBLEMS = (ProblemKind.UNAUTHORIZED, ProblemKind.FORBIDDEN, ProblemKind.CUSTOMER_SESSION_REQUIRED)


@route(router, "GET", "/{customer_ref}/notification-settings", "A customer's notification settings", *_PROBLEMS,
       response_model=NotificationSettingsOut)
def get_notification_settings(customer_ref: CustomerRefPath, key: CustomerSettingsKey, session: ReadSessionDep,
                              settings: SettingsDep) -> NotificationSettingsOut:
    """The language of the customer's notification texts (`en` unless set)."""
    customers.own_customer(settings, key, customer_ref)
    return NotificationSettingsOut(customer_ref=customer_ref,
                                   language=notifications.language_of(session, customer_ref))


@route(router, "PUT", "/{customer_ref}/notification-settings", "Set a customer's notification settings", *_PROBLEMS,
       ProblemKind.VALIDATION, response_model=NotificationSettingsOut)
def set_notification_settings(customer_ref: CustomerRefPath, body: NotificationSettingsIn, key: CustomerSettingsKey,
                              session: SessionDep, settings: SettingsDep) -> NotificationSettingsOut:
    """Set the language (`en` or `zh`) of the customer's notification texts: the list and the stream render every
    notification, past ones too, in it from now on."""
    customers.own_customer(settings, key, customer_ref)
    row = notifications.set_language(session, customer_ref, body.language)
    return NotificationSettingsOut(customer_ref=row.customer_ref, language=row.language)
