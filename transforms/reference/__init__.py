"""Reference data: the committed reference tables and every lookup over them, one module per rule.

- `seeds`: where the tables live (`REFERENCE_DIR`, the one folder both Python and dbt read) and their loaders,
  `LookupTables` (the committed seeds or small test tables in the same schema), CBAM GWPs and constants;
- `cn_codes`: CN code → CBAM heading by longest prefix (scope, goods category, Annex II flag, functional unit);
- `default_values`: DVR default values with country/table fallbacks and the yearly mark-up;
- `cbam_grid`: DVR Annex II grid factors of electricity;
- `countries`: any country spelling → ISO alpha-2 (exact matches only), EU membership;
- `goods`: the aggregated goods categories, their sectors and accepted spellings;
- `cbam`: `CbamReference`, the one injectable object the CBAM engine gets (built from the modules above).

Nothing here is re-exported: import the module that holds the rule. The tables are rebuilt from the official
sources by `tools/refbuild` (developer-side, never at run time).
"""
