import asyncio
import logging
import signal

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from voltdesk.core.services import get_utility


class Command(BaseCommand):
    help = (
        "Run the OpenADR 2.0b VTN: send excess-demand events to the registered VENs and "
        "record their opt-in / opt-out and reports (see docs/openadr.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8080)
        parser.add_argument(
            "--poll-seconds",
            type=float,
            default=5.0,
            help="How often the VTN reads new and cancelled deliveries from the database.",
        )
        parser.add_argument(
            "--ven-poll-seconds",
            type=float,
            default=10.0,
            help="How often the VENs are asked to poll the VTN.",
        )
        parser.add_argument(
            "--report-seconds",
            type=float,
            default=60.0,
            help="The sampling interval asked of the VENs' telemetry reports.",
        )
        parser.add_argument("--vtn-id", default="", help="Default: VOLTDESK-<profile>-VTN.")
        parser.add_argument("--sign-cert", help="PEM certificate that signs outgoing messages.")
        parser.add_argument("--sign-key", help="Its private key.")
        parser.add_argument("--tls-cert", help="PEM certificate of the HTTPS server.")
        parser.add_argument("--tls-key", help="Its private key.")
        parser.add_argument(
            "--tls-ca", help="CA file the VENs' client certificates are checked against."
        )

    def handle(self, *args, **options):
        from voltdesk.demand.vtn import VoltDeskVTN

        for name in ("poll_seconds", "ven_poll_seconds", "report_seconds"):
            if options[name] <= 0:
                raise CommandError(
                    _("%(option)s: give a number of seconds above 0.")
                    % {"option": "--" + name.replace("_", "-")}
                )
        if not 0 < options["port"] < 65536:
            raise CommandError(_("--port: give a port between 1 and 65535."))
        tls = [options["tls_cert"], options["tls_key"], options["tls_ca"]]
        if any(tls) and not all(tls):
            raise CommandError(
                _("--tls-cert: TLS needs --tls-cert, --tls-key and --tls-ca together.")
            )
        if bool(options["sign_cert"]) != bool(options["sign_key"]):
            raise CommandError(_("--sign-cert: signing needs --sign-cert and --sign-key together."))
        vtn_id = options["vtn_id"] or f"VOLTDESK-{get_utility().profile.upper()}-VTN"
        if options["verbosity"] > 1:
            logging.basicConfig(level=logging.INFO)
        vtn = VoltDeskVTN(
            vtn_id=vtn_id,
            host=options["host"],
            port=options["port"],
            poll_seconds=options["poll_seconds"],
            ven_poll_seconds=options["ven_poll_seconds"],
            report_seconds=options["report_seconds"],
            cert=options["sign_cert"],
            key=options["sign_key"],
            http_cert=options["tls_cert"],
            http_key=options["tls_key"],
            http_ca_file=options["tls_ca"],
        )

        async def serve():
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop.set)
            await vtn.run(stop)

        self.stderr.write(
            _("OpenADR VTN %(vtn)s on %(host)s:%(port)s; Ctrl-C stops it.")
            % {"vtn": vtn_id, "host": options["host"], "port": options["port"]}
        )
        asyncio.run(serve())
