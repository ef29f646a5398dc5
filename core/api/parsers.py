"""navigator.sendBeacon() cannot set Content-Type: application/json without a CORS
preflight, so beacons send JSON as text/plain. This parser reads it as JSON;
only the events endpoint enables it, behind a same-origin check."""

from .json_limits import JSONParser


class PlainTextJSONParser(JSONParser):
    media_type = "text/plain"
