"""Builder of `ghg_sea_distances.csv`: approximate port-to-port sea distances (km) for the ports in `ghg_places.csv`.

Great-circle distance is wrong at sea (ships go round continents and through canals), so sea legs without a
given distance take their distance from this table. It is built, not typed: shortest path over a small graph of
sea-lane waypoints (Taiwan Strait, Singapore, Malacca, Dondra Head, Bab-el-Mandeb, Suez, Gibraltar, Ushant,
Dover, Kiel Canal, Dardanelles, ...), each edge a great-circle arc (canals at their length). Real sailing
distances are some per cent longer than these arcs; the values are **approximate** (status UNCONFIRMED) and the
test suite checks a few against published port-distance figures (Shanghai-Rotterdam about 10 500 nm).

Build-time only (plain Python over a few dozen nodes); run `python -m tools.refbuild.sea_routes` to rewrite the
CSV, and the tests compare the committed file with a fresh build. At run time the table is read through
transforms/ghg/factors.py and looked up in transforms/logistics/engine.py.
"""

from __future__ import annotations

import csv
import heapq
import math
from itertools import combinations

from tools.refbuild._common import write_csv
from transforms.logistics.places import EARTH_RADIUS_KM  # the run-time great-circle's radius
from transforms.reference.seeds import REFERENCE_DIR

VERSION = "2025.1"
SOURCE = (
    "lingtan waypoint routing (great-circle arcs between sea-lane waypoints, canals at length); approximate"
)

# Sea-lane waypoints (lat, lon), placed in open water by hand from public maps.
WAYPOINTS: dict[str, tuple[float, float]] = {
    "east_china_sea": (29.2, 123.0),
    "yellow_sea_s": (32.5, 124.5),
    "bohai_strait": (38.3, 121.2),
    "korea_strait": (34.3, 129.3),
    "kyushu_s": (30.7, 131.3),
    "kii_channel_s": (33.3, 135.8),
    "uraga": (35.0, 139.8),
    "taiwan_strait_n": (25.6, 120.4),
    "taiwan_strait_s": (23.2, 118.4),
    "taiwan_e": (24.0, 123.0),
    "luzon_strait": (20.8, 121.0),
    "pearl_river_off": (21.9, 114.3),
    "qiongzhou_e": (20.3, 111.2),
    "gulf_tonkin": (19.0, 107.4),
    "tonkin_s": (17.0, 108.0),
    "scs_n": (18.0, 113.5),
    "scs_vietnam": (10.5, 110.0),
    "scs_s": (4.0, 105.8),
    "singapore_e": (1.3, 104.4),
    "singapore_w": (1.2, 103.5),
    "malacca_mid": (2.9, 100.8),
    "malacca_n": (5.9, 97.6),
    "aceh_n": (6.2, 94.8),
    "dondra": (5.6, 80.6),
    "socotra_n": (12.7, 53.5),
    "bab_el_mandeb": (12.6, 43.35),
    "red_sea_mid": (20.0, 38.7),
    "red_sea_n": (27.6, 34.0),
    "suez": (29.93, 32.56),
    "port_said": (31.27, 32.32),
    "crete_s": (34.6, 24.5),
    "aegean_s": (36.3, 26.8),
    "dardanelles": (40.05, 26.2),
    "marmara": (40.75, 27.8),
    "ionian": (37.0, 19.5),
    "otranto": (40.0, 18.9),
    "adriatic_mid": (43.3, 14.6),
    "messina": (38.2, 15.65),
    "tyrrhenian": (40.0, 12.5),
    "elba_w": (42.8, 9.9),
    "cape_bon": (37.3, 11.2),
    "algeria_coast": (37.2, 3.0),
    "gibraltar": (35.95, -5.6),
    "cape_st_vincent": (36.9, -9.5),
    "finisterre": (43.3, -9.9),
    "ushant": (48.6, -5.6),
    "channel_mid": (50.0, -2.5),
    "dover": (51.0, 1.45),
    "scheldt": (51.45, 3.55),
    "texel_w": (53.2, 4.2),
    "elbe_mouth": (54.0, 8.2),
    "brunsbuettel": (53.89, 9.14),
    "kiel_holtenau": (54.37, 10.15),
    "fehmarn": (54.55, 11.3),
    "arkona_n": (54.85, 13.5),
    "skagerrak": (57.7, 8.0),
    "skagen": (57.9, 10.8),
    "kattegat": (56.6, 12.0),
    "oresund": (55.7, 12.7),
    "sweden_s": (55.2, 14.2),
}

# Edges between waypoints and ports (port ids are place_id of ghg_places.csv). Distance = great circle unless
# given in CANALS / RIVERS.
EDGES: tuple[tuple[str, str], ...] = (
    # East Asia
    ("CNTSN", "bohai_strait"), ("bohai_strait", "CNTAO"), ("CNTAO", "yellow_sea_s"), ("bohai_strait", "yellow_sea_s"),
    ("yellow_sea_s", "east_china_sea"), ("yellow_sea_s", "korea_strait"), ("yellow_sea_s", "CNSHA"),
    ("CNSHA", "east_china_sea"), ("CNNGB", "east_china_sea"), ("CNSHA", "CNNGB"),
    ("east_china_sea", "korea_strait"), ("east_china_sea", "kyushu_s"), ("east_china_sea", "taiwan_strait_n"),
    ("east_china_sea", "taiwan_e"), ("KRPUS", "korea_strait"), ("korea_strait", "kyushu_s"),
    ("kyushu_s", "kii_channel_s"), ("kii_channel_s", "uraga"), ("uraga", "JPTYO"), ("kyushu_s", "taiwan_e"),
    ("taiwan_e", "luzon_strait"), ("taiwan_strait_n", "CNXMN"), ("CNXMN", "taiwan_strait_s"),
    ("taiwan_strait_n", "taiwan_strait_s"), ("taiwan_strait_s", "pearl_river_off"), ("taiwan_strait_s", "scs_n"),
    ("luzon_strait", "scs_n"), ("luzon_strait", "pearl_river_off"),
    ("pearl_river_off", "CNYTN"), ("pearl_river_off", "HKHKG"), ("pearl_river_off", "CNSHK"),
    ("pearl_river_off", "CNSZX"), ("pearl_river_off", "CNNSA"), ("CNNSA", "CNFOS"),
    ("pearl_river_off", "scs_n"), ("pearl_river_off", "qiongzhou_e"), ("qiongzhou_e", "gulf_tonkin"),
    ("VNHPH", "gulf_tonkin"), ("gulf_tonkin", "tonkin_s"), ("tonkin_s", "scs_vietnam"), ("scs_n", "scs_vietnam"),
    ("scs_vietnam", "scs_s"), ("scs_s", "singapore_e"), ("singapore_e", "SGSIN"), ("SGSIN", "singapore_w"),
    ("singapore_e", "singapore_w"),
    # Indian Ocean, Red Sea, Suez
    ("singapore_w", "malacca_mid"), ("malacca_mid", "malacca_n"), ("malacca_n", "aceh_n"), ("aceh_n", "dondra"),
    ("dondra", "socotra_n"), ("socotra_n", "bab_el_mandeb"), ("bab_el_mandeb", "red_sea_mid"),
    ("red_sea_mid", "red_sea_n"), ("red_sea_n", "suez"), ("suez", "port_said"),
    # Mediterranean
    ("port_said", "GRPIR"), ("port_said", "crete_s"), ("port_said", "aegean_s"), ("aegean_s", "GRPIR"),
    ("aegean_s", "dardanelles"), ("GRPIR", "dardanelles"), ("dardanelles", "marmara"), ("marmara", "TRIST"),
    ("crete_s", "ionian"), ("GRPIR", "ionian"), ("ionian", "otranto"), ("otranto", "adriatic_mid"),
    ("adriatic_mid", "SIKOP"), ("adriatic_mid", "ITVCE"), ("ionian", "messina"), ("crete_s", "cape_bon"),
    ("ionian", "cape_bon"),
    ("messina", "tyrrhenian"), ("tyrrhenian", "elba_w"), ("elba_w", "ITGOA"), ("cape_bon", "tyrrhenian"),
    ("cape_bon", "algeria_coast"), ("algeria_coast", "ESVLC"), ("algeria_coast", "gibraltar"),
    ("ESVLC", "gibraltar"), ("gibraltar", "ESALG"), ("algeria_coast", "elba_w"),
    # Atlantic, Channel, North Sea, Baltic
    ("gibraltar", "cape_st_vincent"), ("cape_st_vincent", "finisterre"), ("finisterre", "ushant"),
    ("ushant", "channel_mid"), ("channel_mid", "FRLEH"), ("channel_mid", "dover"), ("FRLEH", "dover"),
    ("dover", "NLRTM"), ("dover", "scheldt"), ("scheldt", "BEANR"), ("dover", "texel_w"), ("NLRTM", "texel_w"),
    ("texel_w", "elbe_mouth"), ("elbe_mouth", "DEBRV"), ("elbe_mouth", "brunsbuettel"), ("brunsbuettel", "DEHAM"),
    ("brunsbuettel", "kiel_holtenau"), ("kiel_holtenau", "fehmarn"), ("fehmarn", "arkona_n"),
    ("arkona_n", "PLGDN"), ("texel_w", "skagerrak"), ("elbe_mouth", "skagerrak"), ("skagerrak", "skagen"),
    ("skagen", "kattegat"), ("kattegat", "oresund"), ("oresund", "sweden_s"), ("sweden_s", "PLGDN"),
    ("oresund", "arkona_n"),
)  # fmt: skip

# Edges along canals and rivers: length in km (great circle would cut corners).
CANALS: dict[frozenset[str], float] = {
    frozenset(("suez", "port_said")): 193.3,  # Suez Canal length (public figure, about 193 km)
    frozenset(("brunsbuettel", "kiel_holtenau")): 98.6,  # Kiel Canal length (public figure, about 98 km)
}

# Sanity references (nautical miles, public port-distance figures, rounded): the tests check the table against
# them within a tolerance. 1 nm = 1.852 km.
REFERENCE_NM: dict[tuple[str, str], float] = {
    ("CNSHA", "NLRTM"): 10_500.0,
    ("CNNGB", "NLRTM"): 10_690.0,  # about 19 800 km as quoted in the engine brief
    ("SGSIN", "NLRTM"): 8_300.0,
}


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def sea_ports() -> dict[str, tuple[float, float]]:
    """Ports of ghg_places.csv flagged `sea_node`, by place_id."""
    with (REFERENCE_DIR / "ghg_places.csv").open(encoding="utf-8") as f:
        return {r["place_id"]: (float(r["latitude"]), float(r["longitude"]))
                for r in csv.DictReader(f) if r["sea_node"] == "true"}  # fmt: skip


def _graph(ports: dict[str, tuple[float, float]]) -> dict[str, list[tuple[str, float]]]:
    nodes = WAYPOINTS | ports
    graph: dict[str, list[tuple[str, float]]] = {n: [] for n in nodes}
    for a, b in EDGES:
        if a not in nodes or b not in nodes:
            raise ValueError(f"sea graph edge {a}-{b}: unknown node")
        d = CANALS.get(frozenset((a, b))) or haversine_km(*nodes[a], *nodes[b])
        graph[a].append((b, d))
        graph[b].append((a, d))
    return graph


def _shortest_from(
    graph: dict[str, list[tuple[str, float]]], start: str
) -> dict[str, tuple[float, list[str]]]:
    best: dict[str, tuple[float, list[str]]] = {}
    queue: list[tuple[float, str, list[str]]] = [(0.0, start, [start])]
    while queue:
        d, node, path = heapq.heappop(queue)
        if node in best:
            continue
        best[node] = (d, path)
        for nxt, w in graph[node]:
            if nxt not in best:
                heapq.heappush(queue, (d + w, nxt, [*path, nxt]))
    return best


def build_rows() -> list[dict[str, object]]:
    ports = sea_ports()
    graph = _graph(ports)
    rows = []
    for a, b in combinations(sorted(ports), 2):
        dist, path = _shortest_from(graph, a)[b]
        via = [n for n in path[1:-1] if n in ("suez", "kiel_holtenau", "malacca_mid", "dardanelles")]
        rows.append({
            "port_a": a, "port_b": b, "distance_km": float(round(dist)),
            "route_via": "|".join(via), "source": SOURCE, "status": "UNCONFIRMED", "version": VERSION,
        })  # fmt: skip
    return rows


COLUMNS = ("port_a", "port_b", "distance_km", "route_via", "source", "status", "version")


def main() -> None:
    n = write_csv(REFERENCE_DIR / "ghg_sea_distances.csv", COLUMNS, build_rows())
    print(f"ghg_sea_distances.csv: {n} port pairs")


if __name__ == "__main__":
    main()
