"""The demo plants' energy-management systems (issue 12): meters and a 15-minute reading for every interval of
the demo period, shaped like real plant data and consistent with the energy bills (events.energy_bills).

Ningbo (CN-ZJ-001) runs Schneider PME: three utility incomers named by its bills (site services, P1 and P2
feeders), rooftop PV on the P2 bus with its surplus export, a gas meter and sub-meters per process line. Foshan
(CN-GD-002) runs Schneider EBO: the grid incomer (CT ratio: readings × multiplier), a wind PPA wheeled through the
grid (its delivery passes the incomer, its parent: the incomer reads what the grid and PPA bills bill together), a
cumulative gas register that is replaced once, an hourly steam calculation log stamped at the midpoint, and
sub-meters per press line. Monthly totals of the metered flows equal the bills times a per-meter-month EMS deviation
of a few tenths of a percent (an EMS meter is not the utility's meter), less the gaps. Shapes: a weekday/shift
profile per process with the Spring Festival and Golden Week shutdowns, PV from a clear-sky curve times a random
cloudiness per day, a flat-ish wind PPA. `scale` multiplies the physical volumes (through the bills) and the
number of sub-meters. All numpy/polars, one independent random stream per purpose, no per-reading Python."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from orchestration.demo import events as ev
from orchestration.demo import world as w

INTERVAL = np.timedelta64(15, "m")
EMS_DEVIATION_SD = 0.003  # relative sd of an EMS meter's monthly total against the utility bill
UNMETERED_SHARE = 0.08  # lighting, small loads and losses no sub-meter sees

# Factory shutdowns: Spring Festival and Golden Week (low load; furnaces and ageing ovens idle warm).
SHUTDOWNS = (
    (dt.date(2025, 1, 26), dt.date(2025, 2, 6)),
    (dt.date(2025, 10, 1), dt.date(2025, 10, 7)),
    (dt.date(2026, 2, 13), dt.date(2026, 2, 24)),
    (dt.date(2026, 10, 1), dt.date(2026, 10, 7)),
)

# Deliberate EMS artefacts (ingestion must count them, never fill them).
ZJ_GAPS = (  # empty PME cells: (meter, first missing interval start, intervals)
    ("ZJ-P1.HEAD01", dt.datetime(2025, 6, 10, 9, 0), 120),  # logger of a heading press down 30 h
    ("ZJ-M-EL-01", dt.datetime(2026, 3, 18, 2, 0), 8),  # PME server restart
)
GD_GAPS = (("GD-M-EL-01", dt.datetime(2025, 5, 14, 10, 0), 20),)  # EBO trend log: rows absent for 5 h
GD_GAS_CHANGE = dt.datetime(2025, 8, 12, 14, 30)  # new gas meter: the counter restarts near zero here
GD_GAS_COUNTER_START = 2_817_334.25  # m3 on the old register at the first reading
PV_NAN_AT = dt.datetime(2025, 9, 7, 3, 0)  # one PME cell reads NaN (a not-finite value: quarantined)


@dataclass(frozen=True)
class Meter:
    """One row of the `meters` dataset (docs/landing-zone.md), plus how the demo draws it."""

    meter_id: str
    installation_id: str
    carrier: str
    role: str
    unit: str
    process_id: str | None = None
    parent_meter_id: str | None = None
    register: str | None = None  # None = interval (the default)
    stamp: str | None = None  # None = start (the default)
    interval_minutes: int | None = 15
    multiplier: float | None = None
    timezone: str | None = None  # None = Asia/Shanghai (the default)
    description: str = ""
    quantity: str = "Real Energy Into the Load"  # the middle part of a PME header


# (installation, process, parent meter, id prefix, base count, share of the process load, shape, description)
SUB_METER_FAMILIES = (
    (w.ZJ, "P1", "ZJ-M-EL-01", "ZJ-P1.DRAW", 1, 0.38, "two_shift", "拉丝机 wire drawing line"),
    (w.ZJ, "P1", "ZJ-M-EL-01", "ZJ-P1.HEAD", 2, 0.54, "two_shift", "冷镦机 cold heading press"),
    (w.ZJ, "P2", "ZJ-M-EL-02", "ZJ-P2.FURN", 2, 0.70, "continuous", "网带炉 mesh-belt furnace line"),
    (w.ZJ, "P2", "ZJ-M-EL-02", "ZJ-P2.SURF", 1, 0.22, "day_shift", "表面处理 surface treatment"),
    (w.GD, "P1", "GD-M-EL-01", "GD.PRESS", 2, 0.50, "three_shift", "挤压机 extrusion press"),
    (w.GD, "P1", "GD-M-EL-01", "GD.AGE", 1, 0.14, "continuous", "时效炉 ageing oven"),
    (w.GD, "P1", "GD-M-EL-01", "GD.SURF", 1, 0.20, "day_shift", "氧化喷涂 anodising and coating"),
    (w.GD, "P1", "GD-M-EL-01", "GD.AIR", 1, 0.08, "three_shift", "空压站 compressed air"),
)

MAIN_METERS = (
    Meter("ZJ-M-EL-00", w.ZJ, "electricity", "grid_import", "kWh", stamp="end",
          description="10 kV incomer, site services and offices (utility account 1)"),
    Meter("ZJ-M-EL-01", w.ZJ, "electricity", "grid_import", "kWh", "P1", stamp="end",
          description="10 kV incomer, P1 wire drawing and cold heading (utility account 2)"),
    Meter("ZJ-M-EL-02", w.ZJ, "electricity", "grid_import", "kWh", "P2", stamp="end",
          description="10 kV incomer, P2 heat treatment; the rooftop PV feeds this bus (utility account 3)"),
    Meter("ZJ-M-PV-01", w.ZJ, "electricity", "onsite_generation", "kWh", stamp="end",
          description="rooftop PV 0.9 MWp on the P2 halls", quantity="Real Energy Delivered"),
    Meter("ZJ-M-EX-01", w.ZJ, "electricity", "grid_export", "kWh", stamp="end",
          description="PV surplus fed back on the P2 incomer", quantity="Real Energy Out of the Load"),
    Meter("ZJ-M-NG-01", w.ZJ, "natural_gas", "consumption", "m3", "P2", stamp="end",
          description="natural gas to the P2 furnaces (m3 at 20 degC)", quantity="Gas Volume"),
    Meter("GD-M-EL-01", w.GD, "electricity", "grid_import", "kWh", "P1", stamp="start", multiplier=40.0,
          timezone="Asia/Shanghai", description="10 kV incomer; CT 200/5, readings x 40"),
    Meter("GD-M-EL-02", w.GD, "electricity", "ppa_delivery", "MWh", "P1", stamp="start",
          parent_meter_id="GD-M-EL-01",
          description="wind PPA wheeled through the grid: the grid company's settlement meter, inside the incomer"),
    Meter("GD-M-NG-01", w.GD, "natural_gas", "consumption", "m3", "P1", register="cumulative",
          description="natural gas, cumulative register (m3 at 20 degC); meter replaced 2025-08-12"),
    Meter("GD-M-STM-01", w.GD, "steam", "consumption", "GJ", "P1", stamp="midpoint", interval_minutes=60,
          description="park steam, EBO hourly calculation log stamped at the midpoint"),
)  # fmt: skip

# Which bill feeds which meter's monthly total, and the bill unit -> meter unit factor.
BILLED = {
    "ZJ-M-EL-00": 1.0,
    "ZJ-M-EL-01": 1.0,
    "ZJ-M-EL-02": 1.0,
    "ZJ-M-PV-01": 1.0,
    "ZJ-M-NG-01": 1.0,
    "GD-M-EL-01": 1000.0,  # MWh bill, kWh meter
    "GD-M-EL-02": 1.0,
    "GD-M-NG-01": 1.0,
    "GD-M-STM-01": 1.0,
}


def rng_for(seed: int, purpose: int) -> np.random.Generator:
    """A stream per purpose, apart from events.rng_for's ([seed, tag]) and from each other."""
    return np.random.default_rng([seed, 12, purpose])


def sub_meter_count(base: int, scale: float) -> int:
    return max(1, round(base * scale))


def meters(scale: float) -> list[Meter]:
    out = list(MAIN_METERS)
    for inst, proc, parent, prefix, base, _, _, desc in SUB_METER_FAMILIES:
        k = sub_meter_count(base, scale)
        width = 2 if k < 100 else 3
        out += [
            Meter(f"{prefix}{j:0{width}d}", inst, "electricity", "sub_meter", "kWh", proc, parent,
                  stamp="end" if inst == w.ZJ else None, interval_minutes=15 if inst == w.ZJ else None,
                  description=f"{desc} {j}")
            for j in range(1, k + 1)
        ]  # fmt: skip
    return out


# ------------------------------------------------------------------------------------------------ clock


@dataclass
class Clock:
    """Every 15-minute interval of the demo period in local time (Asia/Shanghai: no daylight saving)."""

    start: np.ndarray  # datetime64[m] interval starts
    month: np.ndarray  # month index (events.Calendar order)
    day: np.ndarray  # day index from the first day
    hour: np.ndarray  # local clock hour of the interval midpoint, fractional
    dow: np.ndarray  # 0 = Monday
    doy: np.ndarray  # day of year, 1-based
    shutdown: np.ndarray  # bool: a factory shutdown day
    months: int
    days: int

    @classmethod
    def build(cls, cal: ev.Calendar) -> Clock:
        first = cal.starts[0].astype("datetime64[m]")
        y, m = cal.months[-1]
        end = np.datetime64(w.month_end(y, m) + dt.timedelta(days=1)).astype("datetime64[m]")
        start = first + np.arange((end - first) // INTERVAL) * INTERVAL
        days = start.astype("datetime64[D]")
        month = (start.astype("datetime64[M]") - first.astype("datetime64[M]")).astype(np.int64)
        minutes = (start - days).astype(np.int64)
        day = (days - days[0]).astype(np.int64)
        years = days.astype("datetime64[Y]")
        shut = np.zeros(int(day[-1]) + 1, dtype=bool)
        for a, b in SHUTDOWNS:
            lo, hi = (np.datetime64(a) - days[0]).astype(int), (np.datetime64(b) - days[0]).astype(int)
            shut[max(lo, 0) : max(hi + 1, 0)] = True
        return cls(
            start=start,
            month=month,
            day=day,
            hour=(minutes + 7.5) / 60.0,
            dow=(days.astype(np.int64) + 3) % 7,  # 1970-01-01 was a Thursday
            doy=(days - years.astype("datetime64[D]")).astype(np.int64) + 1,
            shutdown=shut[day],
            months=len(cal.months),
            days=len(shut),
        )

    def index(self, at: dt.datetime) -> int:
        return int((np.datetime64(at, "m") - self.start[0]) // INTERVAL)


# ----------------------------------------------------------------------------------------------- shapes


def shape(clock: Clock, kind: str) -> np.ndarray:
    """Relative load of a process family per interval (mean near 1): shifts, weekends, shutdowns."""
    h, sunday, saturday = clock.hour, clock.dow == 6, clock.dow == 5
    if kind == "two_shift":  # 08:00-24:00 Monday-Saturday, a skeleton crew at night and on Sundays
        s = np.where(h >= 8, 1.0, 0.22)
        s = np.where(sunday, 0.3, np.where(saturday, 0.85 * s, s))
        off = 0.12
    elif kind == "three_shift":  # around the clock with dips at the shift changes, Sundays half
        change = (np.abs(h - 8) < 0.3) | (np.abs(h - 16) < 0.3) | (h < 0.3) | (h > 23.7)
        s = np.where(change, 0.7, 1.0) * np.where(sunday, 0.45, 1.0)
        off = 0.15
    elif kind == "continuous":  # furnaces and ovens: a high base, a little more on the day shifts
        s = 0.86 + 0.14 * ((h >= 8) & (h < 20)) * (~sunday)
        off = 0.45
    elif kind == "day_shift":  # 08:00-20:00 Monday-Saturday
        s = np.where((h >= 8) & (h < 20) & ~sunday, 1.0, 0.18)
        off = 0.1
    elif kind == "office":  # weekdays 08:00-18:00 on top of a base (lighting, servers, canteen)
        s = np.where((h >= 8) & (h < 18) & (clock.dow < 5), 1.0, 0.38)
        off = 0.28
    else:
        raise ValueError(kind)
    return np.where(clock.shutdown, off, s)


def _noisy(rng: np.random.Generator, clock: Clock, sd_interval: float, sd_day: float) -> np.ndarray:
    """Multiplicative noise: a factor per day times a factor per interval, never below 0.05."""
    day = 1.0 + rng.normal(0.0, sd_day, clock.days)
    return np.maximum(day[clock.day] * (1.0 + rng.normal(0.0, sd_interval, clock.start.size)), 0.05)


def pv_shape(clock: Clock, rng: np.random.Generator, lat: float, lon: float) -> np.ndarray:
    """Clear-sky output (cosine of the solar zenith) times the day's cloudiness and intraday cloud noise."""
    decl = np.radians(23.44) * np.sin(2 * np.pi * (284 + clock.doy) / 365.0)
    omega = np.radians(15.0 * (clock.hour + (lon - 120.0) / 15.0 - 12.0))  # clock time UTC+8 -> solar time
    phi = np.radians(lat)
    cosz = np.sin(phi) * np.sin(decl) + np.cos(phi) * np.cos(decl) * np.cos(omega)
    clear = np.maximum(cosz, 0.0) ** 1.2
    cloud = 0.12 + 0.88 * rng.beta(2.4, 1.2, clock.days)  # 1 = a clear day
    c = cloud[clock.day]
    flicker = np.clip(1.0 + (1.0 - c) * rng.normal(0.0, 0.6, clock.start.size), 0.0, 1.6)
    return clear * c * flicker


def wind_shape(clock: Clock, rng: np.random.Generator) -> np.ndarray:
    """A flat-ish wind delivery: weather over days (5-day moving average), a little more at night."""
    white = rng.normal(0.0, 1.0, clock.days + 4)
    weather = np.convolve(white, np.ones(5) / 5.0, mode="valid")  # sd ~0.45
    diurnal = 1.0 + 0.12 * np.cos(2 * np.pi * (clock.hour - 3.0) / 24.0)
    gust = 1.0 + rng.normal(0.0, 0.06, clock.start.size)
    return np.clip(1.0 + 0.55 * weather[clock.day], 0.25, 2.2) * diurnal * gust


def fit_monthly(clock: Clock, target: np.ndarray, f: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Per-month factor k with Σ over the month of f(k) = target, f increasing in k (bisection, vectorised)."""
    lo, hi = np.zeros(clock.months), np.ones(clock.months)
    total = lambda k: np.bincount(clock.month, f(k[clock.month]), minlength=clock.months)  # noqa: E731
    for _ in range(200):
        short = total(hi) < target
        if not short.any():
            break
        hi = np.where(short, hi * 2.0, hi)
    for _ in range(64):
        mid = (lo + hi) / 2.0
        short = total(mid) < target
        lo, hi = np.where(short, mid, lo), np.where(short, hi, mid)
    return (lo + hi) / 2.0


def per_month(clock: Clock, values: np.ndarray) -> np.ndarray:
    return np.bincount(clock.month, values, minlength=clock.months)


# --------------------------------------------------------------------------------------------- series


@dataclass
class Series:
    """Primary-unit consumption per 15-minute interval and meter (NaN = no reading), before artefacts are
    applied to the written readings; the hourly steam log and the gas counter are derived from it."""

    clock: Clock
    values: dict[str, np.ndarray]
    bill_targets: dict[str, np.ndarray]  # meter -> monthly bill in the meter's unit (× EMS deviation)


def series(cal: ev.Calendar, bills: pl.DataFrame, scale: float, seed: int) -> Series:
    clock = Clock.build(cal)
    n = clock.start.size
    dev_rng = rng_for(seed, 1)
    bill = (
        bills.filter(pl.col("meter_id").is_not_null())
        .group_by("meter_id", "_m")
        .agg(pl.col("quantity").sum())
        .pivot("meter_id", index="_m", values="quantity")
        .sort("_m")
    )
    targets = {
        m: bill[m].to_numpy() * factor * (1.0 + dev_rng.normal(0.0, EMS_DEVIATION_SD, clock.months))
        for m, factor in sorted(BILLED.items())
    }
    v: dict[str, np.ndarray] = {}
    noise = rng_for(seed, 2)

    def process_shape(inst: str, proc: str, noisy: bool = True) -> np.ndarray:
        fams = [f for f in SUB_METER_FAMILIES if f[0] == inst and f[1] == proc]
        s = sum(f[5] * shape(clock, f[6]) for f in fams) + UNMETERED_SHARE * shape(clock, "continuous")
        return s * _noisy(noise, clock, 0.03, 0.04) if noisy else s

    # Ningbo: P1 and site incomers carry their process load; PV on the P2 bus, surplus exported.
    for meter, s in (("ZJ-M-EL-00", shape(clock, "office") * _noisy(noise, clock, 0.05, 0.05)),
                     ("ZJ-M-EL-01", process_shape(w.ZJ, "P1"))):  # fmt: skip
        v[meter] = s * (targets[meter] / per_month(clock, s))[clock.month]
    pv = pv_shape(clock, rng_for(seed, 3), w.INSTALLATIONS[0]["latitude"], w.INSTALLATIONS[0]["longitude"])
    pv = pv * (targets["ZJ-M-PV-01"] / per_month(clock, pv))[clock.month]
    s2 = process_shape(w.ZJ, "P2")
    a2 = fit_monthly(clock, targets["ZJ-M-EL-02"], lambda k: np.maximum(k * s2 - pv, 0.0))
    load2 = a2[clock.month] * s2
    v["ZJ-M-EL-02"], v["ZJ-M-EX-01"], v["ZJ-M-PV-01"] = (
        np.maximum(load2 - pv, 0.0),
        np.maximum(pv - load2, 0.0),
        pv,
    )
    loads = {(w.ZJ, "P1"): v["ZJ-M-EL-01"], (w.ZJ, "P2"): load2}
    gas = shape(clock, "continuous") * _noisy(noise, clock, 0.04, 0.03)
    v["ZJ-M-NG-01"] = gas * (targets["ZJ-M-NG-01"] / per_month(clock, gas))[clock.month]

    # Foshan: the incomer reads the load = grid + wheeled PPA (the PPA passes it: the bills of both name meters
    # behind it); the PPA never delivers more than 95 % of the load in an interval.
    sg = process_shape(w.GD, "P1")
    grid_kwh, ppa_kwh = targets["GD-M-EL-01"], targets["GD-M-EL-02"] * 1000.0
    load = sg * ((grid_kwh + ppa_kwh) / per_month(clock, sg))[clock.month]
    wind = wind_shape(clock, rng_for(seed, 4))
    b = fit_monthly(clock, ppa_kwh, lambda k: np.minimum(k * wind, 0.95 * load))
    ppa = np.minimum(b[clock.month] * wind, 0.95 * load)
    v["GD-M-EL-01"], v["GD-M-EL-02"] = load, ppa / 1000.0
    targets["GD-M-EL-01"] = grid_kwh + ppa_kwh
    loads[(w.GD, "P1")] = load
    for meter, kind, sd in (("GD-M-NG-01", "three_shift", 0.05), ("GD-M-STM-01", "day_shift", 0.08)):
        s = (0.35 + shape(clock, kind)) * _noisy(noise, clock, sd, 0.04)
        v[meter] = s * (targets[meter] / per_month(clock, s))[clock.month]

    # Sub-meters: their family's share of the process load, split unevenly, each with its own noise and one
    # maintenance day a month (never added to a parent, so they need not sum to it).
    sub_rng = rng_for(seed, 5)
    starts = np.concatenate([[0], np.cumsum(cal.days)])[:-1]
    for inst, proc, _, prefix, base, share, kind, _ in SUB_METER_FAMILIES:
        k = sub_meter_count(base, scale)
        weights = sub_rng.dirichlet(np.full(k, 6.0))
        fam = shape(clock, kind)
        fraction = per_month(clock, share * fam) / per_month(clock, process_shape(inst, proc, noisy=False))
        family_kwh = per_month(clock, loads[(inst, proc)]) * fraction
        width = 2 if k < 100 else 3
        for j in range(k):
            down = np.ones(clock.days)
            down[starts + sub_rng.integers(0, cal.days)] = 0.05
            own = fam * down[clock.day] * _noisy(sub_rng, clock, 0.06, 0.05)
            v[f"{prefix}{j + 1:0{width}d}"] = (
                own * (family_kwh * weights[j] / per_month(clock, own))[clock.month]
            )
    assert all(x.size == n for x in v.values())
    return Series(clock, v, targets)
