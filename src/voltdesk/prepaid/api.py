"""The payment gateway's webhook for package purchases, authenticated by its signature.

Mounted by ``api/urls.py`` (``api.add_router("/", prepaid_router)``) as
``POST /api/v1/prepaid/webhook/sandbox``; with ``VOLTDESK_GATEWAY_WEBHOOK_URL``
unset the sandbox hands the same signed bytes to the handler in-process.
"""

from ninja import Router
from ninja.responses import Status

from voltdesk.billing import gateway

from . import services

router = Router(tags=["prepaid"])


@router.post(
    "/prepaid/webhook/sandbox",
    auth=None,
    response={200: dict, 400: dict},
    summary="The sandbox gateway's signed webhook for package purchases",
)
def purchase_webhook(request):
    try:
        fresh = services.receive_purchase_webhook(request.body, request.headers)
    except gateway.WebhookRejected as exc:
        return Status(400, {"detail": str(exc)})
    return {"received": True, "duplicate": not fresh}
