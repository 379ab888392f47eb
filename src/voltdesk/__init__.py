"""VoltDesk: customer service and key accounts for an electric utility."""

from .celery import app as celery_app

__all__ = ["celery_app"]
