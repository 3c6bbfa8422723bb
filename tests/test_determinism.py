"""Deterministic outputs (issue 11 item 4): the same inputs give byte-identical computed tables.

The CBAM engine and `compute_ghg` run twice on a small demo raw lake, here and in a subprocess with another
POLARS_MAX_THREADS, each time with the raw rows shuffled differently (the second run also cut into small chunks);
every table written to Parquet must be the same bytes. `fsum` itself is checked against `math.fsum` (within 1 ulp)
and across shuffles, engines and contexts.
"""

from __future__ import annotations

import hashlib
import math
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from transforms.stable import (
    _GRIDS,
    canonical,
    distinct_sorted,
    fsum,
    fsum_levels,
    fsum_of_levels,
    fsum_of_one,
)

REPO = Path(__file__).resolve().parent.parent


def _values(n: int, seed: int) -> pl.DataFrame:
    """Mixed signs and magnitudes 1e-3..1e5 in 40 groups: a plain parallel sum differs in the last bits."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n) * 10.0 ** rng.integers(-3, 6, n)
    return pl.DataFrame({"k": rng.integers(0, 40, n), "x": x})


def test_fsum_same_bits_for_any_row_order_and_engine():
    df = _values(60_000, 1)
    seen = set()
    for seed, engine in [(0, "in-memory"), (1, "streaming"), (2, "in-memory"), (3, "streaming")]:
        shuffled = df.sample(fraction=1.0, shuffle=True, seed=seed).lazy()
        out = shuffled.group_by("k").agg(pl.col("x").pipe(fsum)).sort("k").collect(engine=engine)
        seen.add(out["x"].to_numpy().tobytes())
    assert len(seen) == 1


def test_fsum_is_within_one_ulp_of_the_exact_sum_where_a_plain_sum_is_not():
    df = _values(60_000, 2)
    exact = {k: math.fsum(v) for k, v in df.group_by("k").agg(pl.col("x")).iter_rows()}
    ours = dict(df.group_by("k").agg(pl.col("x").pipe(fsum)).iter_rows())
    plain = dict(df.group_by("k").agg(pl.col("x").sum()).iter_rows())
    off = [k for k in exact if ours[k] != exact[k]]
    assert all(abs(ours[k] - exact[k]) <= math.ulp(exact[k]) for k in off), off  # at most 1 ulp
    assert len(off) <= 2 < sum(plain[k] != exact[k] for k in exact)  # a plain sum misses most of them


def test_fsum_months_of_a_year_add_back_to_the_year():
    days = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    parts = [60.0 * (d / 365) for d in days] + [30.0 * (d / 365) for d in days]
    assert sum(parts) != 90.0  # naive order loses the last bit
    assert pl.DataFrame({"x": parts[::-1]}).select(pl.col("x").pipe(fsum)).item() == 90.0


def test_fsum_of_one_is_fsum_of_a_group_of_one_row_to_the_bit():
    edge = [0.0, -0.0, 1e-30, -1e-30, 5e-324, 0.007200000000000001, 1e20, -123456.789, 2.0**80 * 0.9]
    x = pl.concat([_values(5_000, 3)["x"], pl.Series("x", edge)])
    df = pl.DataFrame({"k": range(x.len()), "x": x})
    grouped = df.group_by("k").agg(pl.col("x").pipe(fsum)).sort("k")["x"]
    alone = df.select(fsum_of_one(pl.col("x")))["x"]
    assert grouped.to_numpy().tobytes() == alone.to_numpy().tobytes()
    assert alone.to_list()[-len(edge) + 1] == 0.0  # -0.0 gives 0.0, as fsum does


def _cut_levels(x: pl.Expr) -> list[pl.Expr]:
    """fsum's per-grid sums by their definition: x cut toward zero to each grid, digits as differences of cuts."""

    def cut(g: float) -> pl.Expr:
        y = x * (1.0 / g)
        return pl.when(y < 0).then(y.ceil()).otherwise(y.floor()) * g

    cuts = [cut(g) for g in _GRIDS]
    return [cuts[0].sum()] + [(fine - coarse).sum() for coarse, fine in zip(cuts, cuts[1:], strict=False)]


def test_fsum_digits_are_the_cuts_toward_zero_to_the_bit():
    # fsum computes each digit from remainders (a smaller expression); the digits and the sums must be those of
    # the cuts, zeros' signs included: a zero sum is +0.0, never -0.0
    edge = [0.0, -0.0, 5e-324, -5e-324, 1e-40, -1e-40, -(2.0**-123), -3 * 2.0**-123, 2.0**80, -(2.0**80),
            2.0**81 - 1, -1.2e24, 0.1, -0.1, 2.0**52 + 1, -(2.0**53 - 1)]  # fmt: skip
    rng = np.random.default_rng(7)
    x = rng.standard_normal(20_000) * 10.0 ** rng.integers(-45, 24, 20_000)
    pairs = [(-0.0, -0.0), (-1e-40, -1e-40), (3.0, -3.0), (-0.0, 0.0), (-1.5, -0.0), (-0.1, 0.1)]
    df = pl.concat(
        [
            pl.DataFrame({"k": rng.integers(0, 500, x.size), "x": x}),
            pl.DataFrame({"k": range(1000, 1000 + len(edge)), "x": edge}),  # groups of one
            pl.DataFrame(
                {"k": [2000 + i // 2 for i in range(2 * len(pairs))], "x": [v for p in pairs for v in p]}
            ),
        ]
    )
    for engine in ("in-memory", "streaming"):
        got = (
            df.lazy()
            .group_by("k")
            .agg(
                ours=pl.col("x").pipe(fsum),
                cuts=fsum_of_levels(_cut_levels(pl.col("x"))),
                **{f"d{i}": d for i, d in enumerate(fsum_levels(pl.col("x")))},
                **{f"c{i}": c for i, c in enumerate(_cut_levels(pl.col("x")))},
            )
            .sort("k")
            .collect(engine=engine)
        )
        assert got["ours"].to_numpy().tobytes() == got["cuts"].to_numpy().tobytes(), engine
        for i in range(len(_GRIDS)):
            assert got[f"d{i}"].to_list() == got[f"c{i}"].to_list(), (engine, i)
        zeros = got.filter(pl.col("ours") == 0)["ours"].to_list()
        assert zeros and all(math.copysign(1.0, z) == 1.0 for z in zeros), engine
        one = df.lazy().select(pl.col("x").pipe(fsum_of_one)).collect(engine=engine)["x"]
        assert all(math.copysign(1.0, z) == 1.0 for z in one.filter(one == 0).to_list()), engine


def test_fsum_keeps_sum_semantics_for_nulls_empty_zero_and_windows():
    df = pl.DataFrame({"k": [1, 1, 2, 3, 3, 4], "x": [None, None, 1.5, 0.0, -0.0, 1e-20]})
    got = df.group_by("k").agg(s=pl.col("x").pipe(fsum), p=pl.col("x").sum()).sort("k")
    assert got["s"].to_list() == got["p"].to_list() == [0.0, 1.5, 0.0, 1e-20]
    win = df.with_columns(w=pl.col("x").pipe(fsum).over("k"))["w"].to_list()
    assert win == [0.0, 0.0, 1.5, 0.0, 0.0, 1e-20]
    empty = pl.DataFrame({"x": []}, schema={"x": pl.Float64}).select(pl.col("x").pipe(fsum)).item()
    assert empty == 0.0
    assert math.isnan(pl.DataFrame({"x": [1.0, float("nan")]}).select(pl.col("x").pipe(fsum)).item())


def test_canonical_is_a_total_order_whatever_the_input_order():
    df = pl.DataFrame(
        {
            "k": ["b", "a", "a", "a"],
            "v": [1.0, 2.0, None, 2.0],
            "s": ["x", "z", "y", "y"],
            "l": [[1], [2], [3], [4]],
        }
    )
    a = canonical(df, ["k"])
    b = canonical(df.reverse(), ["k"])
    assert a.drop("l").equals(b.drop("l"))
    assert a["k"].to_list() == ["a", "a", "a", "b"] and a["v"].to_list()[:3] == [2.0, 2.0, None]
    assert canonical(df.lazy(), ["k"]).collect().drop("l").equals(a.drop("l"))


def test_distinct_sorted_gives_the_lists_of_unique_then_sort():
    ids = [f"supplier_invoices/2025-0{m}-03/inv.csv#{r}" for m in (1, 2) for r in (1, 2, 10, 9, 100)]
    rng = np.random.default_rng(7)
    lists = [list(rng.choice(ids, size=int(rng.integers(0, 12)))) for _ in range(200)]
    lists += [[], None, [None, "b", "a", None, "a"], ["x#10", "x#9", "x#1"]]
    s = pl.Series("ids", lists, dtype=pl.List(pl.String))
    got = pl.select(distinct_sorted(pl.lit(s))).to_series()
    assert got.equals(s.list.unique().list.sort())
    assert got[-1].to_list() == ["x#1", "x#10", "x#9"] and got[-2].to_list() == [None, "a", "b"]
    assert got[-3] is None and got[-4].to_list() == []
    dropped = pl.select(distinct_sorted(pl.lit(s), drop_nulls=True)).to_series()
    assert dropped[-2].to_list() == ["a", "b"]
    # in a group_by: the same lists as `unique().sort()` of the group's elements
    df = pl.DataFrame({"g": [i % 7 for i in range(len(lists))], "ids": s})
    a = df.group_by("g").agg(
        pl.col("ids").list.explode(keep_nulls=False, empty_as_null=False).unique().sort()
    )
    b = df.group_by("g").agg(pl.col("ids").list.explode(keep_nulls=False, empty_as_null=False))
    assert a.sort("g").equals(b.with_columns(distinct_sorted(pl.col("ids"))).sort("g"))


# --- the engines, end to end --------------------------------------------------------------------------------------


def run_engines(home: str, seed: int, out: str, chunk_rows: int = 0) -> None:
    """Subprocess body: raw lake rows shuffled with `seed` (and cut into chunks of `chunk_rows` rows when > 0),
    CBAM then GHG, every table written to `out`."""
    from orchestration.lib.compute import load_raw
    from orchestration.lib.home import Home
    from transforms.cbam.engine import compute_cbam
    from transforms.footprint import load_factors
    from transforms.ghg.compute import compute_ghg

    raw = {}
    for i, (name, lf) in enumerate(sorted(load_raw(Home(Path(home))).items())):
        df = lf.collect().sample(fraction=1.0, shuffle=True, seed=seed * 100 + i)
        if chunk_rows > 0 and df.height > chunk_rows:
            df = pl.concat([df.slice(o, chunk_rows) for o in range(0, df.height, chunk_rows)], rechunk=False)
        raw[name] = df.lazy()
    cbam = compute_cbam(raw)
    ghg = compute_ghg(
        raw,
        load_factors(),
        cbam["stream_emissions"],
        cbam["process_see"],
        cbam["precursor_inputs"],
        inventory_as_of=date(2026, 12, 31),
    )
    Path(out).mkdir(parents=True)
    for name, df in {**cbam, **ghg}.items():
        df.write_parquet(Path(out) / f"{name}.parquet")


@pytest.fixture(scope="module")
def small_home(tmp_path_factory) -> Path:
    from orchestration.demo import generate
    from orchestration.lib.home import Home
    from orchestration.lib.ingest import ingest_dataset
    from orchestration.lib.storage import Landing
    from transforms.contracts import datasets

    root = tmp_path_factory.mktemp("determinism")
    generate(root / "landing", scale=0.05, seed=7)
    landing, home = Landing.open(str(root / "landing")), Home.open(str(root / "home"))
    listing = list(landing.files())
    for name in datasets():
        ingest_dataset(landing, home, name, listing=listing)
    return root / "home"


def _run(home: Path, seed: int, threads: int, out: Path, chunk_rows: int = 0) -> dict[str, str]:
    code = "from tests.test_determinism import run_engines; "
    code += f"run_engines({str(home)!r}, {seed}, {str(out)!r}, {chunk_rows})"
    env = os.environ | {"POLARS_MAX_THREADS": str(threads)}
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return _hashes(out)


def _hashes(out: Path) -> dict[str, str]:
    return {p.stem: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.glob("*.parquet"))}


def test_engines_give_byte_identical_tables_for_shuffled_rows_and_other_thread_counts(small_home, tmp_path):
    from transforms.cbam.engine import TABLES
    from transforms.ghg.compute import GHG_TABLES

    run_engines(str(small_home), seed=1, out=str(tmp_path / "a"))  # here, with this process's thread pool
    first = _hashes(tmp_path / "a")
    other = 1 if pl.thread_pool_size() > 1 else 4
    # other thread count, other row order, the raw tables in many small chunks
    second = _run(small_home, seed=2, threads=other, out=tmp_path / "b", chunk_rows=7)
    assert set(first) == set(TABLES) | set(GHG_TABLES)
    differ = sorted(name for name in first if first[name] != second[name])
    assert not differ, f"tables not byte-identical across reruns: {differ}"
    for name in ("goods_see", "export_lines", "site_inventory", "product_footprint"):
        assert pl.read_parquet(tmp_path / "a" / f"{name}.parquet").height > 0, name


# --- the marts (dbt on DuckDB) ----------------------------------------------------------------------------------

DBT = REPO / "dbt_project"


def _stable_sum_sql(expr: str, where: str | None = None) -> str:
    """The dbt macro `stable_sum` rendered as dbt renders it (plain Jinja: it calls nothing of dbt's)."""
    import jinja2

    macro = (DBT / "macros" / "stable_sum.sql").read_text(encoding="utf-8")
    call = f"{{{{ stable_sum({expr!r}, where={where!r}) }}}}"
    return jinja2.Environment().from_string(macro + call).render().strip()


def test_marts_sum_floats_only_through_stable_sum():
    """DuckDB's sum() adds in the order its threads deliver rows: every sum in a model goes through the macro."""
    import re

    plain = [
        f"{p.relative_to(DBT)}:{n}"
        for p in sorted((DBT / "models").rglob("*.sql"))
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"(?<![\w.])(sum|fsum|avg|kahan_sum|sumkahan)\s*\(", line.split("--")[0], re.I)
    ]
    assert not plain, f"plain float aggregates in the marts (use {{{{ stable_sum(...) }}}}): {plain}"


def test_stable_sum_gives_the_same_bits_for_any_row_order_and_thread_count():
    import duckdb

    df = _values(400_000, 3).with_columns(
        x=pl.when(pl.col("k") == 7).then(None).otherwise(pl.col("x"))  # an all-null group stays null
    )
    sql = _stable_sum_sql("x")
    only = _stable_sum_sql("x", where="x > 1e4")
    seen, first = set(), None
    for seed, threads in [(0, 1), (1, 2), (2, 4), (3, 2)]:
        con = duckdb.connect()
        con.execute(f"set threads = {threads}")
        con.register("t", df.sample(fraction=1.0, shuffle=True, seed=seed).to_arrow())
        got = con.execute(f"select k, {sql} as s, {only} as f from t group by k order by k").fetchall()
        seen.add(repr(got))  # repr: the shortest text that reads back as the same bits
        first = first or got
        con.close()
    assert len(seen) == 1, "stable_sum differs between row orders or thread counts"
    rows = {k: (s, f) for k, s, f in first}
    assert rows[7] == (None, None)  # nulls only: null, as sum()
    exact = {k: math.fsum(v) for k, v in df.drop_nulls().group_by("k").agg(pl.col("x")).iter_rows()}
    assert all(abs(rows[k][0] - exact[k]) <= 1e-9 * max(1.0, abs(exact[k])) for k in exact)
    big = {
        k: math.fsum(v) for k, v in df.filter(pl.col("x") > 1e4).group_by("k").agg(pl.col("x")).iter_rows()
    }
    assert all(abs(rows[k][1] - big[k]) <= 1e-9 * abs(big[k]) for k in big) and rows[7][1] is None


@pytest.mark.slow
def test_marts_are_byte_identical_when_rebuilt_with_another_thread_count(demo_home, tmp_path):
    """The demo's published marts (built by `lingtan run`, DuckDB's default threads) against a second dbt
    build of the same computed tables with DuckDB on one thread: every mart's rows, in a canonical order, are
    the same values to the bit (`processed_at`, when a file was read, left out)."""
    from tests.outputs import mart_digests

    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "profiles.yml").write_text(
        "lingtan:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        "      path: \"{{ env_var('LINGTAN_WAREHOUSE_PATH') }}\"\n      threads: 1\n"
        "      settings:\n        threads: 1\n",
        encoding="utf-8",
    )
    warehouse = tmp_path / "rebuilt.duckdb"
    env = os.environ | {
        "LINGTAN_HOME": str(demo_home.root.resolve()),
        "LINGTAN_WAREHOUSE_PATH": str(warehouse),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    dbt = str(Path(sys.executable).parent / "dbt")
    common = ["--profiles-dir", str(profiles), "--target-path", str(tmp_path / "target")]
    common += ["--log-path", str(tmp_path / "logs"), "-q"]
    for step in ("seed", "run"):
        done = subprocess.run([dbt, step, *common], cwd=DBT, env=env, capture_output=True, text=True)
        assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    first, second = mart_digests(demo_home.warehouse), mart_digests(warehouse)
    assert set(first) == set(second) and len(first) > 20
    differ = sorted(name for name in first if first[name] != second[name])
    assert not differ, f"marts not identical across builds: {differ}"


def test_cbam_engine_same_tables_on_either_polars_engine_and_leaves_the_setting_alone(small_home):
    """compute_cbam runs its plans on polars' in-memory engine (less fixed cost per plan than the default
    streaming one): the same tables as on the streaming engine, and the caller's engine setting afterwards."""
    from orchestration.lib.compute import load_raw
    from orchestration.lib.home import Home
    from transforms.cbam.engine import _compute, compute_cbam
    from transforms.reference.cbam import CbamReference

    raw, ref = load_raw(Home(small_home)), CbamReference.from_seeds()
    with pl.Config(engine_affinity="streaming"):
        streamed = _compute(raw, ref, None, ("year", "month"))
        assert os.environ.get("POLARS_ENGINE_AFFINITY") == "streaming"
        ours = compute_cbam(raw, ref)
        assert os.environ.get("POLARS_ENGINE_AFFINITY") == "streaming"  # restored
    assert set(ours) == set(streamed)
    for name, df in ours.items():
        assert df.equals(streamed[name]), name
    assert ours["goods_see"].height > 0 and ours["export_lines"].height > 0


def test_ghg_stage_same_tables_on_either_polars_engine(small_home):
    """The GHG stage's tables do not depend on which polars engine runs its plans (its sums of a few columns
    are added left to right: `transforms.stable.added`, not `pl.sum_horizontal`)."""
    from orchestration.lib.compute import load_raw
    from orchestration.lib.home import Home
    from transforms.cbam.engine import compute_cbam
    from transforms.footprint import load_factors
    from transforms.ghg.compute import compute_ghg

    raw = load_raw(Home(small_home))
    cbam = compute_cbam(raw)
    tables = {}
    for engine in ("in-memory", "streaming"):
        with pl.Config(engine_affinity=engine):
            tables[engine] = compute_ghg(
                raw,
                load_factors(),
                cbam["stream_emissions"],
                cbam["process_see"],
                cbam["precursor_inputs"],
                inventory_as_of=date(2026, 12, 31),
            )
    for name, df in tables["in-memory"].items():
        assert df.equals(tables["streaming"][name]), name
    assert tables["streaming"]["product_footprint"].height > 0


def test_added_is_left_to_right_on_either_engine():
    from transforms.stable import added

    df = pl.DataFrame({"a": [0.1, 1e16, None], "b": [0.2, 1.0, 1.0], "c": [0.3, -1e16, 2.0]})
    for engine in ("in-memory", "streaming"):
        got = df.lazy().select(added("a", "b", "c")).collect(engine=engine)["a"].to_list()
        assert got == [(0.1 + 0.2) + 0.3, (1e16 + 1.0) - 1e16, None]


def test_engines_call_nothing_polars_deprecates(small_home):
    # polars warns from its Rust side while it collects and prints the warning rather than raising it, so no
    # pytest filter can fail on it: the warnings of whole engine runs over a Parquet lake are recorded instead
    import warnings

    from orchestration.lib.compute import load_raw
    from orchestration.lib.home import Home
    from transforms.cbam.engine import compute_cbam
    from transforms.footprint import load_factors
    from transforms.ghg.compute import compute_ghg

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        raw = load_raw(Home(small_home))
        cbam = compute_cbam(raw)
        compute_ghg(raw, load_factors(), cbam["stream_emissions"], cbam["process_see"], cbam["precursor_inputs"],
                    inventory_as_of=date(2026, 12, 31))  # fmt: skip
    ours = [
        f"{w.filename}:{w.lineno}: {w.message}"
        for w in seen
        if issubclass(w.category, DeprecationWarning) and Path(w.filename).is_relative_to(REPO)
    ]
    assert not ours, ours
