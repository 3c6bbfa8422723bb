"""Specific embedded emissions per process (MIR Annex III B, Eq 57-63) via the template's input-output form.

For the processes of one installation and period with production, `A[p, q]` = tonnes of process q's output
consumed by p per tonne of p's output (self-loops allowed) and

    b_p = ae_p + Σ_purchased m_i × SEE_i        (ae = AttrEm / AL, m_i = M_i / AL, Eq 61-63)
    SEE = (I − A)⁻¹ b

solved at once for five right-hand sides: direct, indirect, indirect from non-Annex-II sources (for the
chargeable cross-rule of MIR Annex I pt 3.1), direct from default values (the default-value share), and
electricity (embedded MWh per tonne). (I − A) must be non-singular and every result non-negative.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from transforms.cbam.errors import PrecursorMatrixError, ZeroProductionError
from transforms.cbam.periods import YEAR
from transforms.reference.goods import ANNEX_II_CATEGORIES
from transforms.stable import distinct_sorted, fsum, quotient

GROUP = ["installation_id", "period", "period_grain"]
KEYS = [*GROUP, "process_id"]
RHS = (
    "see_direct",
    "see_indirect",
    "see_indirect_non_annex_ii",
    "default_direct_per_t",
    "embedded_electricity_mwh_per_t",
)
COND_LIMIT = 1e12
NEG_TOL = 1e-12


def _process_table(
    attribution: pl.DataFrame,
    electricity: pl.DataFrame,
    purchased: pl.DataFrame,
    flows: pl.DataFrame,
    processes: pl.LazyFrame,
) -> pl.DataFrame:
    attr = attribution.lazy().select(
        *KEYS,
        "activity_level_t",
        "attributed_direct_tco2e",
        "heat_term_tco2e",
        "waste_gas_term_tco2e",
        "el_prod_tco2e",
        "dirEm_source",
        "floor_applied",
        pl.col("_source_row_ids").alias("_ids_attr"),
    )
    el = electricity.lazy().select(
        *KEYS,
        pl.col("indirect_tco2e").alias("attributed_indirect_tco2e"),
        "electricity_mwh",
        "electricity_ef_tco2_per_mwh",
        "electricity_ef_source",
        pl.col("_source_row_ids").alias("_ids_el"),
    )
    ext = (
        purchased.lazy()
        .filter(pl.col("process_id").is_not_null())
        .group_by(KEYS)
        .agg(
            purchased_precursor_t=pl.col("mass_t").pipe(fsum),
            ext_direct_tco2e=pl.col("embedded_direct_tco2e").pipe(fsum),
            ext_indirect_tco2e=pl.col("embedded_indirect_tco2e").pipe(fsum),
            ext_indirect_non_annex_ii_tco2e=pl.col("embedded_indirect_non_annex_ii_tco2e").pipe(fsum),
            ext_default_direct_tco2e=pl.col("default_direct_tco2e").pipe(fsum),
            ext_electricity_mwh=pl.col("embedded_electricity_mwh").pipe(fsum),
            _ids_ext=pl.col("_source_row_ids").list.explode(keep_nulls=False, empty_as_null=False),
        )
    )
    fl = flows.lazy()
    flow_procs = pl.concat(
        [
            fl.select(*GROUP, pl.col("from_process_id").alias("process_id")),
            fl.select(*GROUP, pl.col("to_process_id").alias("process_id")),
        ]
    ).unique()
    inflow = fl.group_by(*GROUP, pl.col("to_process_id").alias("process_id")).agg(
        internal_precursor_t=pl.col("mass_t").pipe(fsum),
        _ids_flow=pl.col("_source_row_ids").list.explode(keep_nulls=False, empty_as_null=False),
    )
    outflow = fl.group_by(*GROUP, pl.col("from_process_id").alias("process_id")).agg(
        internal_output_t=pl.col("mass_t").pipe(fsum)
    )
    procs = processes.select("installation_id", "process_id", "goods_category").unique(
        ["installation_id", "process_id"]
    )
    table = (
        attr.join(el, on=KEYS, how="full", coalesce=True)
        .join(ext, on=KEYS, how="full", coalesce=True)
        .join(flow_procs, on=KEYS, how="full", coalesce=True)
        .join(inflow, on=KEYS, how="left")
        .join(outflow, on=KEYS, how="left")
        .join(procs, on=["installation_id", "process_id"], how="left")
    )
    zero_cols = [
        "activity_level_t",
        "attributed_direct_tco2e",
        "attributed_indirect_tco2e",
        "electricity_mwh",
        "heat_term_tco2e",
        "waste_gas_term_tco2e",
        "el_prod_tco2e",
        "purchased_precursor_t",
        "ext_direct_tco2e",
        "ext_indirect_tco2e",
        "ext_indirect_non_annex_ii_tco2e",
        "ext_default_direct_tco2e",
        "ext_electricity_mwh",
        "internal_precursor_t",
        "internal_output_t",
    ]
    al = pl.col("activity_level_t")
    own_annex_ii = pl.col("goods_category").is_in(sorted(ANNEX_II_CATEGORIES)).fill_null(False)

    def per_t(c: str) -> pl.Expr:
        return pl.when(al > 0).then(quotient(pl.col(c), al))

    empty = pl.lit([], dtype=pl.List(pl.String))
    return (
        table.with_columns(pl.col(c).fill_null(0.0) for c in zero_cols)
        .with_columns(
            _source_row_ids=distinct_sorted(
                pl.concat_list(
                    [pl.col(c).fill_null(empty) for c in ("_ids_attr", "_ids_el", "_ids_ext", "_ids_flow")]
                )
            )
        )
        .drop("_ids_attr", "_ids_el", "_ids_ext", "_ids_flow")
        .with_columns(
            annex_ii_process=own_annex_ii,
            own_see_direct=per_t("attributed_direct_tco2e"),
            own_see_indirect=per_t("attributed_indirect_tco2e"),
            own_electricity_mwh_per_t=per_t("electricity_mwh"),
            _b_dir=per_t("attributed_direct_tco2e") + per_t("ext_direct_tco2e"),
            _b_ind=per_t("attributed_indirect_tco2e") + per_t("ext_indirect_tco2e"),
            _b_ind_na2=pl.when(own_annex_ii).then(0.0).otherwise(per_t("attributed_indirect_tco2e"))
            + per_t("ext_indirect_non_annex_ii_tco2e"),
            _b_def=per_t("ext_default_direct_tco2e"),
            _b_el=per_t("electricity_mwh") + per_t("ext_electricity_mwh"),
        )
        .sort(KEYS)
        .collect()
    )


def solve(
    attribution: pl.DataFrame,
    electricity: pl.DataFrame,
    purchased: pl.DataFrame,
    flows: pl.DataFrame,
    processes: pl.LazyFrame,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(process_see, internal precursor rows). Raises on zero production with emissions (reporting years),
    on a singular or negative input-output system."""
    table = _process_table(attribution, electricity, purchased, flows, processes)
    flow_groups = {k: g for k, g in flows.partition_by(GROUP, as_dict=True).items()} if flows.height else {}
    results: list[dict] = []
    internal: list[dict] = []
    zero_problems: list[dict] = []
    matrix_problems: list[dict] = []
    for key, g in table.partition_by(GROUP, as_dict=True, maintain_order=True).items():
        inst, period, grain = key
        procs = g["process_id"].to_list()
        idx = {p: i for i, p in enumerate(procs)}
        al = g["activity_level_t"].to_numpy()
        f = flow_groups.get(key)
        frm = [idx[p] for p in f["from_process_id"]] if f is not None else []
        to = [idx[p] for p in f["to_process_id"]] if f is not None else []
        mass = f["mass_t"].to_numpy() if f is not None else np.zeros(0)
        loaded = (
            (g["attributed_direct_tco2e"].to_numpy() > 0)
            | (g["attributed_indirect_tco2e"].to_numpy() > 0)
            | (g["purchased_precursor_t"].to_numpy() != 0)
            | (g["internal_output_t"].to_numpy() != 0)
        )
        ok = al > 0
        status = np.where(ok, "ok", np.where(loaded, "zero_production", "no_production")).astype(object)
        attr_dir, attr_ind = g["attributed_direct_tco2e"].to_list(), g["attributed_indirect_tco2e"].to_list()
        for i in (int(j) for j in np.flatnonzero(~ok & loaded)):
            zero_problems.append(
                {
                    "installation_id": inst,
                    "process_id": procs[i],
                    "period": period,
                    "period_grain": grain,
                    "activity_level_t": float(al[i]),
                    "attributed_direct_tco2e": attr_dir[i],
                    "attributed_indirect_tco2e": attr_ind[i],
                    "purchased_precursor_t": float(g["purchased_precursor_t"].to_list()[i]),
                }
            )
        # A process fed by one without production has no defined SEE either (month grain: status only).
        changed = True
        while changed:
            changed = False
            for a, b, m in zip(frm, to, mass, strict=True):
                if m != 0 and not ok[a] and ok[b]:
                    ok[b] = False
                    status[b] = "precursor_without_production"
                    changed = True
        sel = np.flatnonzero(ok)
        pos = {int(i): j for j, i in enumerate(sel)}
        n = len(sel)
        x = np.full((len(procs), len(RHS)), np.nan)
        if n:
            a_mat = np.zeros((n, n))
            for a, b, m in zip(frm, to, mass, strict=True):
                if a in pos and b in pos:
                    a_mat[pos[b], pos[a]] += m / al[b]
            rhs = np.column_stack(
                [g[c].to_numpy()[sel] for c in ("_b_dir", "_b_ind", "_b_ind_na2", "_b_def", "_b_el")]
            )
            m_mat = np.eye(n) - a_mat
            cond = np.linalg.cond(m_mat)
            if not np.isfinite(cond) or cond > COND_LIMIT:
                matrix_problems.append(
                    {
                        "installation_id": inst,
                        "period": period,
                        "period_grain": grain,
                        "processes": ",".join(procs[i] for i in sel),
                        "condition_number": cond,
                        "reason": "processes consume all of each other's output",
                    }
                )
                continue
            sol = np.linalg.solve(m_mat, rhs)
            scale = max(1.0, float(np.abs(sol).max(initial=0.0)))
            if (sol < -NEG_TOL * scale).any():
                bad = sorted({procs[sel[i]] for i in np.flatnonzero((sol < -NEG_TOL * scale).any(axis=1))})
                matrix_problems.append(
                    {
                        "installation_id": inst,
                        "period": period,
                        "period_grain": grain,
                        "processes": ",".join(bad),
                        "reason": "negative embedded emissions",
                    }
                )
                continue
            x[sel] = np.maximum(sol, 0.0)
        for i, p in enumerate(procs):
            results.append(
                {
                    "installation_id": inst,
                    "process_id": p,
                    "period": period,
                    "period_grain": grain,
                    "see_status": status[i],
                    **{c: (None if np.isnan(x[i, j]) else float(x[i, j])) for j, c in enumerate(RHS)},
                }
            )
        for a, b, m in zip(frm, to, mass, strict=True):
            internal.append(
                {
                    "installation_id": inst,
                    "process_id": procs[b],
                    "from_process_id": procs[a],
                    "period": period,
                    "period_grain": grain,
                    "mass_t": float(m),
                    "mass_share_t_per_t": float(m / al[b]) if al[b] > 0 else None,
                    **{
                        f"src_{c}": (None if np.isnan(x[a, j]) else float(x[a, j])) for j, c in enumerate(RHS)
                    },
                }
            )
    if matrix_problems:
        raise PrecursorMatrixError(matrix_problems)
    year_zero = [p for p in zero_problems if p["period_grain"] == YEAR]
    if year_zero:
        raise ZeroProductionError(
            year_zero,
            hint="Add the production (produced_t) of these processes, or move the emissions, "
            "precursors or electricity to the process that produced.",
        )
    res = pl.DataFrame(
        results,
        schema={
            "installation_id": pl.String,
            "process_id": pl.String,
            "period": pl.String,
            "period_grain": pl.String,
            "see_status": pl.String,
            **dict.fromkeys(RHS, pl.Float64),
        },
    )
    out = table.join(res, on=KEYS, how="left").with_columns(
        see_total=pl.col("see_direct") + pl.col("see_indirect"),
        default_value_share=pl.when(pl.col("see_direct") > 0).then(
            quotient(pl.col("default_direct_per_t"), pl.col("see_direct"))
        ),
        precursor_see_direct=pl.col("see_direct") - pl.col("own_see_direct"),
        precursor_see_indirect=pl.col("see_indirect") - pl.col("own_see_indirect"),
    )
    cols = [
        *KEYS,
        "goods_category",
        "annex_ii_process",
        "see_status",
        "activity_level_t",
        "dirEm_source",
        "heat_term_tco2e",
        "waste_gas_term_tco2e",
        "el_prod_tco2e",
        "floor_applied",
        "attributed_direct_tco2e",
        "attributed_indirect_tco2e",
        "electricity_mwh",
        "electricity_ef_tco2_per_mwh",
        "electricity_ef_source",
        "purchased_precursor_t",
        "internal_precursor_t",
        "internal_output_t",
        "ext_direct_tco2e",
        "ext_indirect_tco2e",
        "ext_default_direct_tco2e",
        "ext_electricity_mwh",
        "own_see_direct",
        "own_see_indirect",
        "precursor_see_direct",
        "precursor_see_indirect",
        "see_direct",
        "see_indirect",
        "see_total",
        "see_indirect_non_annex_ii",
        "own_electricity_mwh_per_t",
        "embedded_electricity_mwh_per_t",
        "default_direct_per_t",
        "default_value_share",
        "_source_row_ids",
    ]
    internal_df = pl.DataFrame(
        internal,
        schema={
            "installation_id": pl.String,
            "process_id": pl.String,
            "from_process_id": pl.String,
            "period": pl.String,
            "period_grain": pl.String,
            "mass_t": pl.Float64,
            "mass_share_t_per_t": pl.Float64,
            **{f"src_{c}": pl.Float64 for c in RHS},
        },
    )
    return out.select(cols).sort(KEYS), internal_df
