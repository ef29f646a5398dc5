"""Create a seller account: a login for /admin plus the seller profile."""

import getpass
import os
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from catalog.models import Region
from catalog.services import seller_create

# Read when --password is not given, so scripts need not put it on a command
# line where `ps` and the shell history would show it.
PASSWORD_ENV = "SELLER_PASSWORD"  # noqa: S105 (the name of a variable, not a secret)


class Command(BaseCommand):
    help = (
        "Create a seller who can log into /admin and manage only their own listings. "
        "The password comes from --password-stdin (one line piped in) or --password, "
        f"else ${PASSWORD_ENV}, else a prompt on a terminal."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--email", required=True)
        parser.add_argument("--display-name", required=True, help="Shown to shoppers.")
        parser.add_argument("--region", default="", help="Region code, e.g. IN-MH-PUN.")
        parser.add_argument("--phone", default="")
        parser.add_argument("--verified", action="store_true")
        parser.add_argument(
            "--password", default=None,
            help=f"Visible to `ps` and the shell history: prefer ${PASSWORD_ENV} or "
                 "--password-stdin.",
        )
        parser.add_argument(
            "--password-stdin", action="store_true",
            help="Read the password from the first line of standard input (a pipe or a file).",
        )
        parser.add_argument(
            "--noinput", "--no-input", action="store_false", dest="interactive",
            help="Never prompt; fail if no password is given.",
        )

    def handle(self, *args, **options):
        region = None
        if code := options["region"].strip():
            region = Region.objects.filter(code__iexact=code).first()
            if region is None:
                raise CommandError(f"region: no region with the code {code!r}.")
        password = self._password(options)
        try:
            seller = seller_create(
                username=options["username"],
                email=options["email"],
                password=password,
                display_name=options["display_name"],
                region=region,
                phone=options["phone"],
                verified=options["verified"],
            )
        except ValidationError as exc:
            lines = [
                f"{field}: {message}"
                for field, messages in exc.message_dict.items()
                for message in messages
            ]
            raise CommandError("Seller not created:\n" + "\n".join(lines)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Created seller {seller.display_name!r} ({seller.slug}); "
                f"they can log in at /admin/ as {seller.user.get_username()!r}."
            )
        )

    def _password(self, options) -> str:
        if options["password_stdin"]:
            if options["password"]:
                raise CommandError("password: give either --password or --password-stdin.")
            return self._password_from_stdin()
        if options["password"]:
            return options["password"]
        if from_env := os.environ.get(PASSWORD_ENV):
            return from_env
        if not options["interactive"] or not sys.stdin.isatty():
            raise CommandError(
                f"password: set ${PASSWORD_ENV}, or pipe it in with --password-stdin "
                "(no terminal to prompt on), or give --password."
            )
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("password: the two passwords differ.")
        return first

    def _password_from_stdin(self) -> str:
        # Explicit, as `docker login --password-stdin`: reading stdin whenever
        # it is not a terminal would hang a job whose stdin is an open pipe
        # nobody writes to.
        if sys.stdin is None or sys.stdin.isatty():
            raise CommandError(
                "password: --password-stdin reads a pipe or a file, not a terminal; "
                "leave it out to be prompted."
            )
        # Only the line break is the pipe's: spaces inside or around are the password's.
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise CommandError("password: standard input was empty (line 1).")
        return line
