"""Derive `countries.csv`: ISO 3166-1 alpha-2/alpha-3, English and Chinese names, and every alias we accept.

Source: pycountry (ISO 3166-1 with its zh_CN translation) plus the aliases the CBAM workbooks and Chinese
documents use. Hong Kong, Macao and Taiwan are their own entries and never aliases of China.
"""

from __future__ import annotations

import csv
import gettext
from pathlib import Path

# Names used by CBAM sources (Annex I sheets, Annex II), Chinese documents and common usage.
EXTRA_ALIASES: dict[str, list[str]] = {
    "CN": [
        "中华人民共和国",
        "中国大陆",
        "PRC",
        "P.R. China",
        "PR China",
        "People's Republic of China",
        "China, People's Republic of",
        "Mainland China",
        "China (mainland)",
    ],
    "HK": ["中国香港", "香港特别行政区", "Hong Kong, China", "Hong Kong SAR", "HKSAR"],
    "MO": ["中国澳门", "澳门特别行政区", "Macau", "Macao SAR"],
    "TW": ["中国台湾", "台湾", "台湾省", "Chinese Taipei", "Taiwan"],
    "KR": ["South Korea", "Korea, Republic of (South Korea)", "韩国", "Republic of Korea", "Korea"],
    "KP": ["North Korea", "朝鲜", "North Korea (Democratic People\u2019s Republic of Korea)"],
    "VN": ["Vietnam", "Viet Nam"],
    "RU": ["Russia", "Russian Federation", "俄罗斯"],
    "CI": ["Côte d'Ivoire", "Cote d'Ivoire", "Ivory Coast"],
    "IR": ["Iran", "Iran, Islamic Republic of"],
    "MD": ["Moldova", "Moldova, Republic of"],
    "MM": ["Myanmar", "Myanmar/Burma", "Myanmar_Burma", "Burma"],
    "TR": ["Turkey", "Türkiye", "Turkiye", "土耳其"],
    "US": ["USA", "United States of America", "U.S.A.", "America"],
    "GB": ["UK", "United Kingdom", "Great Britain", "英国"],
    "DE": ["Germany", "德国"],
    "LA": ["Laos", "Lao People's Democratic Republic"],
    "SY": ["Syria"],
    "TZ": ["Tanzania", "Tanzania, United Republic of"],
    "BO": ["Bolivia"],
    "VE": ["Venezuela"],
    "BN": ["Brunei"],
    "CD": [
        "Democratic Republic of the Congo",
        "Congo, Democratic Republic",
        "Democratic Republic of the Cong",
        "DR Congo",
        "Congo, Democratic Republic of",
    ],
    "CG": ["Republic of the Congo", "Congo"],
    "PS": ["Palestine", "Occupied Palestinian Territory"],
    "FM": ["Micronesia"],
    "MK": ["North Macedonia", "Macedonia"],
    "CZ": ["Czech Republic", "Czechia"],
    "SZ": ["Eswatini", "Swaziland"],
    "CV": ["Cape Verde", "Cabo Verde"],
    "VA": ["Vatican", "Holy See"],
    "XK": ["Kosovo"],
    "NL": ["Netherlands", "The Netherlands", "荷兰"],
    "BA": ["Bosnia and Herzegovina", "Bosnia"],
    "AE": ["UAE", "United Arab Emirates"],
    "SA": ["Saudi Arabia"],
    "EG": ["Egypt"],
}
# Not in ISO 3166-1 but used by the Commission (Kosovo).
EXTRA_COUNTRIES = [("XK", "XKX", "Kosovo", "科索沃")]

EU_MEMBERS = {
    "AT",
    "BE",
    "BG",
    "HR",
    "CY",
    "CZ",
    "DK",
    "EE",
    "FI",
    "FR",
    "DE",
    "GR",
    "HU",
    "IE",
    "IT",
    "LV",
    "LT",
    "LU",
    "MT",
    "NL",
    "PL",
    "PT",
    "RO",
    "SK",
    "SI",
    "ES",
    "SE",
}
# CBAM Reg Annex III pt 1: countries outside the scope of CBAM (their goods carry no CBAM charge).
CBAM_EXEMPT = {"IS", "LI", "NO", "CH"}


def build(out: Path) -> int:
    import pycountry

    zh = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["zh_CN"])
    rows = []
    for c in pycountry.countries:
        names = {c.name, getattr(c, "common_name", None), getattr(c, "official_name", None)}
        names.update(EXTRA_ALIASES.get(c.alpha_2, []))
        zh_name = zh.gettext(c.name)
        rows.append(
            (
                c.alpha_2,
                c.alpha_3,
                getattr(c, "common_name", None) or c.name,
                zh_name,
                sorted(n for n in names if n),
            )
        )
    for a2, a3, en, zh_name in EXTRA_COUNTRIES:
        rows.append((a2, a3, en, zh_name, sorted(set(EXTRA_ALIASES.get(a2, [])) | {en})))
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["iso2", "iso3", "name_en", "name_zh", "is_eu_member", "cbam_exempt_origin", "aliases"])
        for a2, a3, en, zh_name, aliases in sorted(rows):
            w.writerow([a2, a3, en, zh_name, a2 in EU_MEMBERS, a2 in CBAM_EXEMPT, "|".join(aliases)])
    return len(rows)
