"""``/v1/notification-subscriptions``: the bank's named, durable subscriptions to its customers' notifications (its
backend's webhook endpoints; node/subscriptions/). Each notification is delivered once per subscription, signed
and retried as the merchants' webhooks are, resuming where it left off. The bank's admin key only.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from api.auth import Admin
from api.common import Page, PageParamsDep, paginate
from api.deps import ReadSessionDep, SessionDep, SettingsDep
from api.problems import ProblemKind
from api.routing import route
from api.schemas.notifications import CreatedSubscriptionOut, SubscriptionIn, SubscriptionOut
from node.subscriptions import service as subscriptions
from node.subscriptions.models import NotificationSubscription

router = APIRouter(prefix="/v1/notification-subscriptions", tags=["notifications"])

NamePath = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", description="the subscription's name")]
_PROBLEMS = (ProblemKind.UNAUTHORIZED, ProblemKind.FORBIDDEN)


def _out(session: ReadSessionDep, row: NotificationSubscription) -> SubscriptionOut:
    counts = subscriptions.delivery_counts(session, row)
    return SubscriptionOut(name=row.name, url=row.url, after_id=row.after_id, created_at=row.created_at,
                           pending=counts["pending"], delivered=counts["delivered"], failed=counts["failed"])


@route(router, "POST", "", "Subscribe the bank's backend to every customer notification", *_PROBLEMS,
       ProblemKind.VALIDATION, ProblemKind.CONFLICT, status_code=201, response_model=CreatedSubscriptionOut)
def create_notification_subscription(body: SubscriptionIn, key: Admin, session: SessionDep, settings: SettingsDep,
                                     response: Response) -> CreatedSubscriptionOut:
    """A named subscription: each notification made after `start_after` (default: from now on) is POSTed to `url`
    once as a `notification.created` event, signed with the secret this answer shows once, and retried with
    backoff until it is accepted (docs/notifications.md). Outside `local` the URL must be public, as a merchant's
    webhook URL. A taken name is `409 conflict`."""
    row, secret = subscriptions.create(session, settings, body.name, body.url, start_after=body.start_after)
    response.headers["Cache-Control"] = "no-store"
    return CreatedSubscriptionOut(**_out(session, row).model_dump(), secret=secret)


@route(router, "GET", "", "The bank's notification subscriptions", *_PROBLEMS, response_model=Page[SubscriptionOut])
def list_notification_subscriptions(key: Admin, session: ReadSessionDep,
                                    page: PageParamsDep) -> Page[SubscriptionOut]:
    """Each subscription with its cursor and how many of its events are pending, delivered and failed."""
    rows, next_cursor = paginate(session, subscriptions.list_query(), NotificationSubscription.id, page)
    return Page[SubscriptionOut](items=[_out(session, r) for r in rows], next_cursor=next_cursor)


@route(router, "GET", "/{name}", "A notification subscription", *_PROBLEMS, ProblemKind.NOT_FOUND,
       response_model=SubscriptionOut)
def get_notification_subscription(name: NamePath, key: Admin, session: ReadSessionDep) -> SubscriptionOut:
    """The subscription, its cursor and its deliveries."""
    return _out(session, subscriptions.get(session, name))
