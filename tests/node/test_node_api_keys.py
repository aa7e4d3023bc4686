"""API keys as the node makes them: the secret is shown once and never written into a log line."""

from __future__ import annotations

from sqlalchemy.orm import Session

from node.api_keys.service import authenticate, create_key


def test_a_created_keys_secret_is_not_in_its_repr(session: Session) -> None:
    created = create_key(session, name="desk 9", scopes=["teller"])
    assert created.secret and created.secret not in repr(created) and "desk 9" in repr(created)
    assert authenticate(session, created.secret) is not None  # the secret itself still works
