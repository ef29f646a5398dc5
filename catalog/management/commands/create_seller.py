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
        f"The password comes from --password, else ${PASSWORD_ENV}, else a prompt."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--email", required=True)
        parser.add_argument("--display-name", required=True, help="Shown to shoppers.")
        parser.add_argument("--region", default="", help="Region code, e.g. IN-MH-PUN.")
        parser.add_argument("--phone", default="")
        parser.add_argument("--verified", action="store_true")
        parser.add_argument("--password", default=None)
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
        if options["password"]:
            return options["password"]
        if from_env := os.environ.get(PASSWORD_ENV):
            return from_env
        if not options["interactive"] or not sys.stdin.isatty():
            raise CommandError(
                f"password: give --password or set ${PASSWORD_ENV} (no terminal to prompt on)."
            )
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("password: the two passwords differ.")
        return first
