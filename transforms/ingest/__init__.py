"""Landing-zone files → validated rows: readers (bytes → table of text), validation against the contract
(text → typed rows + quarantine), the quarantine decision (`quarantine.py`: duplicate keys, rejected files,
file status) and the drop step with its snapshot/event semantics (`drops.py`).

Pure functions on bytes and polars frames; the IO around them lives in orchestration/lib/ingest.py.
"""
