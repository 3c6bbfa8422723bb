"""Landing-zone files → validated rows: readers (bytes → table of text), validation against the contract
(text → typed rows + quarantine), and drop-level rules (duplicate keys, snapshot/event semantics).

Pure functions on bytes and polars frames; the IO around them lives in orchestration/lib/ingest.py.
"""
