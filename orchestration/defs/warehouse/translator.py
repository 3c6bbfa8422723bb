"""How dbt nodes become Dagster assets: sources keep the asset keys their meta.dagster.asset_key names
(raw/<dataset>, computed/<table>), models and seeds are keyed [schema, name] (marts/dim_installation), and every
warehouse asset is in group `warehouse`.

The data-quality sources (dbt source `lake_quality`, meta.lingtan.written_by_every_table_of: lake) are written
by every raw/<dataset> asset, not by one asset of their own: their readers depend on all of those instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

WAREHOUSE_GROUP = "warehouse"


def _meta(props: Mapping[str, Any]) -> Mapping[str, Any]:
    return (props.get("config") or {}).get("meta") or props.get("meta") or {}


class LingtanTranslator(DagsterDbtTranslator):
    def __init__(self, settings: DagsterDbtTranslatorSettings | None = None) -> None:
        super().__init__(settings or DagsterDbtTranslatorSettings(enable_asset_checks=True))

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return WAREHOUSE_GROUP

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: Any) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        fan_out = self._fan_out(manifest)
        if not any(dep.asset_key in fan_out for dep in spec.deps):
            return spec
        deps: dict[dg.AssetKey, dg.AssetDep] = {}
        for dep in spec.deps:
            for key in fan_out.get(dep.asset_key, [dep.asset_key]):
                deps.setdefault(key, dg.AssetDep(key) if key != dep.asset_key else dep)
        return spec.replace_attributes(deps=list(deps.values()))

    def _fan_out(self, manifest: Mapping[str, Any]) -> dict[dg.AssetKey, list[dg.AssetKey]]:
        """Asset key of each shared-writer source → the keys of the tables of the source that writes it."""
        cache: dict[int, dict[dg.AssetKey, list[dg.AssetKey]]] = self.__dict__.setdefault(
            "_fan_out_cache", {}
        )
        if id(manifest) not in cache:
            sources = manifest.get("sources", {}).values()
            keys_of: dict[str, list[dg.AssetKey]] = {}
            for props in sources:
                keys_of.setdefault(props["source_name"], []).append(self.get_asset_key(props))
            cache[id(manifest)] = {
                self.get_asset_key(props): sorted(keys_of.get(writer, []), key=lambda k: k.to_user_string())
                for props in sources
                if (writer := (_meta(props).get("lingtan") or {}).get("written_by_every_table_of"))
            }
        return cache[id(manifest)]
