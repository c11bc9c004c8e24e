"""ApiError: what a route or a rule raises to answer with a status and a JSON body
``{"error", "code", "detail"}`` (supervisor/app.py turns it into the response). A module of its
own, importing nothing of the server, so the service's rules (quotas, enrolment) can raise it
without importing the routes' dependencies."""
from __future__ import annotations

from typing import Any


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, detail: Any = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.detail = status, code, message, detail

    def body(self) -> dict[str, Any]:
        return {"error": self.message, "code": self.code, "detail": self.detail}
