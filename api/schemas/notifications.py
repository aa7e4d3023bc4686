"""Request and response bodies of customer notifications: the list, read marks, the stream's events and a
customer's notification settings (node/notifications/)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, Field, model_validator

from api.common import MAX_DB_INT, RequestModel, StrictInt
from api.shown_once import shown_once
from node.notifications.models import Notification
from node.notifications.texts import render

__all__ = ["CreatedSubscriptionOut", "MarkReadIn", "MarkReadOut", "NotificationOut", "NotificationSettingsIn",
           "NotificationSettingsOut", "SubscriptionIn", "SubscriptionOut", "notification_out"]

MAX_IDS = 200
NotificationId = Annotated[StrictInt, Field(ge=1, le=MAX_DB_INT)]


class NotificationOut(BaseModel):
    id: int = Field(description="monotonic; the SSE event id (resume after it with Last-Event-ID)")
    wallet: str
    type: str = Field(description="a stable type: payment_received, payment_sent, top_up, ... (docs/notifications.md)",
                      examples=["payment_received"])
    params: dict[str, Any] = Field(description="the facts of the event (amounts in integer minor units of "
                                               "`currency`, with its `decimals`), as the text is made from them")
    text: str = Field(description="the human text in the customer's language")
    language: str = Field(description="the language of `text`: en or zh")
    created_at: datetime
    read_at: datetime | None = None


def notification_out(row: Notification, language: str) -> NotificationOut:
    return NotificationOut(id=row.id, wallet=row.wallet, type=row.type, params=row.params,
                           text=render(row.type, row.params, language), language=language, created_at=row.created_at,
                           read_at=row.read_at)


class MarkReadIn(RequestModel):
    up_to: StrictInt | None = Field(None, ge=1, le=MAX_DB_INT,
                                    description="mark every notification with this id or lower read")
    ids: list[NotificationId] = Field(default_factory=list, max_length=MAX_IDS,
                                      description="mark these notifications read")

    @model_validator(mode="after")
    def _something(self) -> Self:
        if self.up_to is None and not self.ids:
            raise ValueError("name the notifications to mark read: up_to, ids or both")
        return self


class MarkReadOut(BaseModel):
    marked: int = Field(description="how many notifications were unread and are read now")


class NotificationSettingsIn(RequestModel):
    language: Literal["en", "zh"] = Field(description="the language of the customer's notification texts")


class NotificationSettingsOut(BaseModel):
    customer_ref: str
    language: str


class SubscriptionIn(RequestModel):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", description="the subscription's name")
    url: str = Field(max_length=500, description="the bank backend's webhook endpoint (http(s)://...)")
    start_after: StrictInt | None = Field(
        None, ge=0, le=MAX_DB_INT, description="deliver the notifications after this id (0: every one kept); "
                                               "default: those made from now on")


class SubscriptionOut(BaseModel):
    name: str
    url: str
    after_id: int = Field(description="the last notification made into an event for it (its cursor)")
    created_at: datetime
    pending: int = Field(description="its events not delivered yet")
    delivered: int
    failed: int = Field(description="its events that failed every attempt")


class CreatedSubscriptionOut(SubscriptionOut):
    secret: str = shown_once(description="the secret its deliveries are signed with (Walletnet-Signature, as the "
                                         "merchants' webhooks); shown only this once")
