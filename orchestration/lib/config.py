"""The settings every asset needs: where the landing zone and the home are, and the report settings. Assets
receive them as the `lingtan` resource (configured per run by `lingtan run`, orchestration/pipeline.py), never
from the process environment; environment variables only supply the defaults of an unconfigured resource."""

import os
from datetime import date

import dagster as dg

from orchestration.lib.home import Home, home_uri, landing_uri
from orchestration.lib.storage import Landing
from transforms.reports.base import ReportConfig

CERTIFICATE_PRICE_ENV = "LINGTAN_CERTIFICATE_PRICE"


class LingtanConfig(dg.ConfigurableResource):
    """`landing` and `home` default to $LINGTAN_LANDING / $LINGTAN_HOME (then ./data/landing, ./data);
    `certificate_price` (EUR per CBAM certificate, for the cost estimates in reports) to
    $LINGTAN_CERTIFICATE_PRICE (then none: reports state emissions and certificates, not money)."""

    landing: str = ""
    home: str = ""
    certificate_price: float | None = None

    def landing_zone(self) -> Landing:
        return Landing.open(landing_uri(self.landing or None))

    def home_dir(self) -> Home:
        return Home.open(home_uri(self.home or None))

    def home_is_s3(self) -> bool:
        return home_uri(self.home or None).startswith("s3://")

    def report_config(self, run_date: date) -> ReportConfig:
        if self.certificate_price is not None:
            return ReportConfig(
                run_date,
                self.certificate_price,
                "lingtan run --certificate-price / lingtan resource config `certificate_price`",
            )
        raw = os.environ.get(CERTIFICATE_PRICE_ENV, "").strip()
        if not raw:
            return ReportConfig(run_date)
        try:
            price = float(raw)
        except ValueError:
            raise ValueError(
                f"{CERTIFICATE_PRICE_ENV}={raw!r} is not a number (EUR per certificate)"
            ) from None
        if not price >= 0 or price == float("inf"):
            raise ValueError(
                f"{CERTIFICATE_PRICE_ENV}={raw!r} must be a finite price ≥ 0 (EUR per certificate)"
            )
        return ReportConfig(run_date, price, f"${CERTIFICATE_PRICE_ENV}")
