"""The settings every asset needs: where the landing zone and the home are."""

import dagster as dg

from orchestration.lib.home import Home, home_uri, landing_uri
from orchestration.lib.storage import Landing


class LingtanConfig(dg.ConfigurableResource):
    """`landing` and `home` default to $LINGTAN_LANDING / $LINGTAN_HOME (then ./data/landing, ./data)."""

    landing: str = ""
    home: str = ""

    def landing_zone(self) -> Landing:
        return Landing.open(landing_uri(self.landing or None))

    def home_dir(self) -> Home:
        return Home.open(home_uri(self.home or None))
