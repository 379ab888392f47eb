"""The SMS gateway's delivery-receipt webhook."""

import json

from django.conf import settings
from django.http import HttpResponseForbidden, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import services
from .channels.signing import SIGNATURE_HEADER, verify


@csrf_exempt  # the gateway signs its requests instead of carrying a CSRF token
@require_POST
def sms_receipt(request):
    if not verify(settings.SMS_GATEWAY_SECRET, request.body, request.headers.get(SIGNATURE_HEADER)):
        return HttpResponseForbidden("bad signature")
    try:
        receipt = json.loads(request.body)
        provider_id = str(receipt.get("id") or "")
        reference = str(receipt.get("reference") or "")
        status = str(receipt["status"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return JsonResponse({"error": "expected JSON with id, reference and status"}, status=400)
    try:
        message = services.record_sms_receipt(
            provider_message_id=provider_id,
            reference=reference,
            status=status,
            error=str(receipt.get("error") or ""),
        )
    except services.NotificationError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    if message is None:
        # Not ours (or deleted): say so, so the gateway's operator can see it in its logs.
        return JsonResponse({"error": "unknown message"}, status=404)
    return JsonResponse({"status": message.status})
