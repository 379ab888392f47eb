"""Run the local SMS gateway simulator: ``voltdesk sms_simulator --port 8025``."""

from django.conf import settings
from django.core.management.base import BaseCommand

from voltdesk.notifications.channels.simulator import SimulatorBehaviour, SmsGatewaySimulator


class Command(BaseCommand):
    help = "Serve a simulated SMS gateway (signed requests, idempotency keys, receipts, failures)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8025)
        parser.add_argument(
            "--secret", default=None, help="HMAC secret (default: SMS_GATEWAY_SECRET)"
        )
        parser.add_argument(
            "--callback-url",
            default="",
            help="where to post delivery receipts, e.g. http://127.0.0.1:8000/notifications/sms/receipt",
        )
        parser.add_argument(
            "--fail-rate", type=float, default=0.0, help="fraction of requests answered HTTP 500"
        )
        parser.add_argument(
            "--fail-number", action="append", default=[], help="always answer 500 for this number"
        )
        parser.add_argument(
            "--hang-number", action="append", default=[], help="never answer in time for this"
        )
        parser.add_argument("--receipt-delay", type=float, default=1.0)

    def handle(self, *args, **options):
        simulator = SmsGatewaySimulator(
            secret=options["secret"] or settings.SMS_GATEWAY_SECRET,
            host=options["host"],
            port=options["port"],
            callback_url=options["callback_url"],
            behaviour=SimulatorBehaviour(
                fail_rate=options["fail_rate"],
                fail_numbers=set(options["fail_number"]),
                hang_numbers=set(options["hang_number"]),
                receipt_delay=options["receipt_delay"],
            ),
        )
        self.stdout.write(f"SMS gateway simulator on {simulator.url} (Ctrl-C stops it)")
        self.stdout.flush()
        try:
            simulator.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            simulator.server.server_close()
            self.stdout.write(
                f"{len(simulator.sent)} SMS taken, {simulator.duplicates} duplicates dropped"
            )
