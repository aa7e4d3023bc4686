"""Endpoints of this area (being written)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["transfers"])
