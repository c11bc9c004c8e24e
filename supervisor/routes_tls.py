"""The server's own certificate (``serve --self-signed``), for machines and the dashboard.

Public: a certificate is no secret, and a technician fetches it from a machine that has no
supervisor login. What makes it trustworthy is the SHA-256 fingerprint the server printed at
start, which the dashboard shows beside the download.
"""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from supervisor.apierror import ApiError

router = APIRouter()

CERT_FILENAME = "examroom-server.crt"


@router.get("/tls", tags=["machine"])
async def tls_info(request: Request) -> dict:
    """Whether this server runs on its own certificate, and that certificate's fingerprint."""
    own = request.app.state.settings.own_certificate
    return {"self_signed": own is not None, "fingerprint": own.fingerprint if own else None,
            "filename": CERT_FILENAME if own else None}


@router.get("/tls/certificate", tags=["machine"])
async def tls_certificate(request: Request) -> Response:
    own = request.app.state.settings.own_certificate
    if own is None:
        raise ApiError(404, "no_own_certificate", "this server does not run on a certificate of its own "
                       "(serve --self-signed); ask whoever runs it for the CA that signed its certificate")
    return Response(own.cert.read_bytes(), media_type="application/x-pem-file",
                    headers={"Content-Disposition": f'attachment; filename="{CERT_FILENAME}"'})
