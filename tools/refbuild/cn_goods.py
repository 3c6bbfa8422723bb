"""Derive `cbam_cn_goods.csv`: CN prefix → CBAM scope, aggregated goods category, Annex II flag, functional unit.

Sources (docs/methodology/cbam.md (b)): the CN list of the default-values workbook (every CN code of every sheet), the
mapping of MIR (IR 2025/2547) Annex I pt 2 Table 1, and CBAM Reg Annex I/II (as amended by the Omnibus,
Reg 2025/2083: electricity in Annex II, non-calcined kaolinic clay out). The rules below are typed from
those texts and every CN code and category they name is checked to be printed there, so a changed text
stops the build. Lookups use the longest matching prefix (8, 6 or 4 digits).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tools.refbuild._common import (
    CBAM_REG,
    CBAM_REG_TEXT,
    MIR_ACT,
    MIR_TEXT,
    OMNIBUS_TEXT,
    cn_digits,
    read_oj_text,
    require,
    write_csv,
)

COLUMNS = [
    "cn_prefix",
    "prefix_digits",
    "description",
    "in_scope",
    "goods_category",
    "sector",
    "annex_ii_direct_only",
    "functional_unit",
    "declaration_unit",
    "fu_note",
    "gases",
    "ask_operator",
    "exclusion_reason",
    "in_default_values",
    "rule_cn",
    "source",
    "act",
    "workbook_version",
]

ASK_WHITE_GREY = "white (route B) or grey (route A)? Default values and benchmarks differ; ask the operator"
ASK_ALUMINIUM = (
    "primary (route K) or secondary (route L) aluminium? The benchmark route depends on it; ask the operator"
)
ASK_7205 = (
    "pig iron or iron/steel product? MIR Table 1: some 7205 granules/powders of pig iron belong to "
    "'Pig iron'; ask the operator"
)
ASK_CLAY = "calcined? Only calcined kaolinic clay is a CBAM good (Omnibus Art 1(28)); ask the operator"
FU_SUPPLEMENTARY = (
    "MIR Art 4(4)(b): the CN supplementary unit (Reg (EEC) 2658/87) of the goods; the unit itself "
    "is not in the reference folder (UNCONFIRMED)"
)


@dataclass(frozen=True)
class Rule:
    printed: str  # the CN code as printed in the legal text ('7202 1', '2523 10 00', '7208')
    category: str | None  # None: excluded (not a CBAM good)
    sector: str
    gases: str = "CO2"
    ask: str | None = None
    exclusion: str | None = None
    prefixes: tuple[str, ...] = ()  # digit prefixes when the printed code is not 4/6/8 digits ('7202 1')

    def digit_prefixes(self) -> tuple[str, ...]:
        return self.prefixes or (cn_digits(self.printed),)


def _steel(heads: range | tuple[int, ...], category: str = "Iron or steel products") -> list[Rule]:
    return [Rule(str(h), category, "iron_steel") for h in heads]


CH72_EXCLUDED = "CBAM Reg Annex I, chapter 72 exception (not a CBAM good)"
RULES: list[Rule] = [
    Rule("2507 00 80", "Calcined clay", "cement", ask=ASK_CLAY),
    Rule("2523 10 00", "Cement clinker", "cement", ask=ASK_WHITE_GREY),
    Rule("2523 21 00", "Cement", "cement"),
    Rule("2523 29 00", "Cement", "cement"),
    Rule("2523 90 00", "Cement", "cement", ask=ASK_WHITE_GREY),
    Rule("2523 30 00", "Aluminous cement", "cement"),
    Rule("2716 00 00", "Electricity", "electricity"),
    Rule("2808 00 00", "Nitric acid", "fertilisers", gases="CO2,N2O"),
    Rule("3102 10", "Urea", "fertilisers"),
    Rule("2814", "Ammonia", "fertilisers"),
    Rule("2834 21 00", "Mixed fertilisers", "fertilisers", gases="CO2,N2O"),
    Rule("3102", "Mixed fertilisers", "fertilisers", gases="CO2,N2O"),
    Rule("3105", "Mixed fertilisers", "fertilisers", gases="CO2,N2O"),
    Rule(
        "3105 60 00",
        None,
        "fertilisers",
        exclusion="CBAM Reg Annex I: 3105 excepts 3105 60 00 (P and K only)",
    ),
    Rule("2601 12 00", "Sintered ore", "iron_steel"),
    Rule("7201", "Pig iron", "iron_steel"),
    Rule("7202 1", "FeMn", "iron_steel", prefixes=("720211", "720219")),
    Rule("7202 2", None, "iron_steel", exclusion=CH72_EXCLUDED, prefixes=("720221", "720229")),
    *[
        Rule(c, None, "iron_steel", exclusion=CH72_EXCLUDED)
        for c in (
            "7202 30 00",
            "7202 50 00",
            "7202 70 00",
            "7202 80 00",
            "7202 91 00",
            "7202 92 00",
            "7202 93 00",
            "7202 99",
        )
    ],
    Rule("7202 4", "FeCr", "iron_steel", prefixes=("720241", "720249")),
    Rule("7202 6", "FeNi", "iron_steel", prefixes=("720260",)),
    Rule("7203", "DRI", "iron_steel"),
    Rule("7204", None, "iron_steel", exclusion="CBAM Reg Annex I: ferrous waste and scrap excepted"),
    Rule("7205", "Iron or steel products", "iron_steel", ask=ASK_7205),
    *_steel((7206, 7207, 7218, 7224), "Crude steel"),
    *_steel(range(7208, 7218)),
    *_steel(range(7219, 7224)),
    *_steel(range(7225, 7230)),
    *_steel(range(7301, 7312)),
    *_steel((7318, 7326)),
    Rule("7601", "Unwrought aluminium", "aluminium", gases="CO2,PFCs", ask=ASK_ALUMINIUM),
    Rule("7602", None, "aluminium", exclusion="not in CBAM Reg Annex I (aluminium waste and scrap)"),
    *[
        Rule(str(h), "Aluminium products", "aluminium", gases="CO2,PFCs", ask=ASK_ALUMINIUM)
        for h in range(7603, 7615)
    ],
    Rule(
        "7615",
        None,
        "aluminium",
        exclusion="not in CBAM Reg Annex I (table, kitchen, sanitary articles); the "
        "DV workbook's Tunisia sheet lists it",
    ),
    Rule("7616", "Aluminium products", "aluminium", gases="CO2,PFCs", ask=ASK_ALUMINIUM),
    Rule("2804 10 00", "Hydrogen", "hydrogen"),
]
NOT_IN_ANNEX_I = {"7602", "7615"}  # checked to be absent from the Annex I text


def annex_ii_direct_only(rule: Rule) -> bool | None:
    """CBAM Reg Annex II (+ electricity, Omnibus Art 1(29)): in-scope ch. 72 and 73 goods except sintered ore,
    aluminium, hydrogen, electricity. Cement, fertilisers and sintered ore count direct + indirect."""
    if rule.category is None:
        return None
    if rule.sector in ("aluminium", "hydrogen", "electricity"):
        return True
    return rule.sector == "iron_steel" and rule.category != "Sintered ore"


def functional_unit(prefix: str, rule: Rule) -> tuple[str | None, str | None, str | None]:
    """(functional unit, declaration unit, note) per MIR Art 4 and CBAM Reg Art 6(2)(a)."""
    if rule.category is None:
        return None, None, None
    if rule.category == "Electricity":
        return (
            "MWh",
            "MWh",
            "MIR Art 4(3): the functional unit is the kWh; declared in MWh (CBAM Reg Art 6(2)(a))",
        )
    if prefix in ("25231000", "25232100", "25232900", "25239000"):
        return "t clinker", "t", "MIR Art 4(5): tonnes of clinker contained in the goods"
    if prefix.startswith(("2808", "2814", "3105")):
        return "kgN", "t", "MIR Art 4(4)(a): kilograms of nitrogen contained in the goods"
    if rule.sector == "fertilisers":
        return "supplementary unit", "t", FU_SUPPLEMENTARY
    return "t", "t", "MIR Art 4(2): tonnes of goods"


def _section(lines: list[tuple[int, str]], start: str, end: str) -> str:
    texts = [t for _, t in lines]
    i = texts.index(start)
    j = texts.index(end, i + 1)
    return "\n".join(texts[i:j])


_GAS = r"Carbon dioxide(?: and (?:nitrous oxide|perfluorocarbons))?"
_CATEGORY_NAMES = sorted({r.category for r in RULES if r.category}, key=len, reverse=True)


def legal_descriptions(section: str) -> dict[str, str]:
    """'CODE – description' entries of a legal table (descriptions spread over lines, category and gas glued on)."""
    sections = {
        "Cement",
        "Electricity",
        "Fertiliser",
        "Fertilisers",
        "Iron and Steel",
        "Aluminium",
        "Chemicals",
    }
    categories = "|".join(re.escape(c) for c in _CATEGORY_NAMES)
    entries: dict[str, str] = {}
    current: str | None = None
    for line in section.split("\n"):
        m = re.match(r"^(?:– Except: |Except: )?(\d{2,4}(?: \d{1,2})*) – (.*)$", line)
        if m:
            current = m.group(1)
            entries[current] = m.group(2)
        elif (
            line in sections
            or re.match(rf"^(?:(?:{categories}) )?{_GAS}", line, flags=re.IGNORECASE)
            or line.startswith(
                ("Some products under", "CN code", "category Greenhouse gas", "Except:", "– Except:")
            )
        ):
            current = None
        elif current:
            entries[current] += " " + line
    out = {}
    for code, text in entries.items():
        text = re.sub(rf"\s+(?:(?:{categories})\s+)?{_GAS}\s*$", "", text.strip(), flags=re.IGNORECASE)
        # A category glued on without its gas (case-sensitive: 'Cement' is the category, 'cement' a word).
        for category in _CATEGORY_NAMES:
            if text.endswith(" " + category):
                text = text[: -len(category) - 1]
                break
        out[code] = text.strip().rstrip(":")
    return out


def verify_rules(source_dir: Path) -> dict[str, str]:
    """Check every rule against the legal texts; returns the legal description per rule prefix."""
    mir = read_oj_text(source_dir / MIR_TEXT)
    table1 = _section(
        mir, "Mapping of CN codes to aggregated goods categories", "3. FUNCTIONAL UNIT AND SYSTEM BOUNDARIES"
    )
    reg = read_oj_text(source_dir / CBAM_REG_TEXT)
    annex_i = _section(reg, "ANNEX I", "ANNEX II")
    annex_ii = _section(reg, "ANNEX II", "ANNEX III")
    omnibus = "\n".join(t for _, t in read_oj_text(source_dir / OMNIBUS_TEXT))
    in_table1, in_annex_i = legal_descriptions(table1), legal_descriptions(annex_i)
    descriptions: dict[str, str] = {}
    for rule in RULES:
        if rule.printed in NOT_IN_ANNEX_I:
            require(rule.printed not in in_annex_i, f"{rule.printed} now printed in Annex I")
            continue
        entries = in_table1 if rule.category else in_annex_i
        # A heading may be printed with its zero subheadings ('7609' as '7609 00 00').
        printed = next(
            (k for k in (rule.printed, f"{rule.printed} 00", f"{rule.printed} 00 00") if k in entries), None
        )
        require(
            printed is not None,
            f"CN {rule.printed!r} not printed in {'MIR Table 1' if rule.category else 'CBAM Reg Annex I'}",
        )
        for p in rule.digit_prefixes():
            descriptions[p] = entries[printed]  # type: ignore[index]
        if rule.category:
            require(
                rule.category.casefold() in table1.casefold(),
                f"category {rule.category!r} not in MIR Table 1",
            )
        if annex_ii_direct_only(rule) and rule.sector != "iron_steel":
            code = re.escape(rule.printed)
            require(
                re.search(rf"(^|\n){code}(?: 00)* –", annex_ii + "\n" + omnibus) is not None,
                f"{rule.printed} expected in CBAM Reg Annex II (or the Omnibus amendment)",
            )
    require("72 – Iron and steel" in annex_ii, "CBAM Reg Annex II no longer lists chapter 72")
    descriptions |= {
        "7602": "Aluminium waste and scrap",
        "7615": "Table, kitchen or other household articles, sanitary ware, of aluminium",
    }
    return descriptions


def rule_for(cn: str) -> Rule | None:
    """Longest-prefix rule for a CN code (digits)."""
    best: tuple[int, Rule] | None = None
    for rule in RULES:
        for p in rule.digit_prefixes():
            if cn.startswith(p) and (best is None or len(p) > best[0]):
                best = (len(p), rule)
    return best[1] if best else None


def build(source_dir: Path, out_dir: Path, dv_records: list[dict], workbook_version: str) -> dict[str, int]:
    """`dv_records`: the rows of cbam_default_values (for the workbook's CN list and descriptions)."""
    legal_descriptions = verify_rules(source_dir)
    prefixes = {p for rule in RULES for p in rule.digit_prefixes()}
    require(all(len(p) in (4, 6, 8) for p in prefixes), "a rule prefix is not 4/6/8 digits")
    descriptions: dict[str, str] = {}
    in_workbook: set[str] = set()
    for rec in dv_records:
        if rec["table_kind"] in ("country", "other"):
            in_workbook.add(rec["cn_code"])
            descriptions.setdefault(rec["cn_code"], rec["description"])
    records = []
    for cn in sorted(prefixes | in_workbook):
        rule = rule_for(cn)
        require(rule is not None, f"workbook CN {cn} matches no CBAM Reg Annex I / MIR Table 1 rule")
        assert rule is not None
        if cn in in_workbook and rule.category is None:
            require(cn.startswith("7615"), f"workbook CN {cn} falls under an exclusion: {rule.exclusion}")
        fu, decl, fu_note = functional_unit(cn, rule)
        records.append(
            {
                "cn_prefix": cn,
                "prefix_digits": len(cn),
                "description": legal_descriptions.get(cn) or descriptions.get(cn),
                "in_scope": rule.category is not None,
                "goods_category": rule.category,
                "sector": rule.sector,
                "annex_ii_direct_only": annex_ii_direct_only(rule),
                "functional_unit": fu,
                "declaration_unit": decl,
                "fu_note": fu_note,
                "gases": rule.gases if rule.category else None,
                "ask_operator": rule.ask,
                "exclusion_reason": rule.exclusion,
                "in_default_values": cn in in_workbook,
                "rule_cn": rule.printed,
                "source": "MIR Annex I pt 2 Table 1" if rule.category else "CBAM Reg Annex I",
                "act": f"{MIR_ACT}; {CBAM_REG}",
                "workbook_version": workbook_version,
            }
        )
    return {"cbam_cn_goods": write_csv(out_dir / "cbam_cn_goods.csv", COLUMNS, records)}
