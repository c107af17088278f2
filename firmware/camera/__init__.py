"""The cart's camera path: frame sources, barcode decoding, and the debouncer that turns frames
into scans (`firmware.core.events.CodeRead` with `source="camera"`).

Dependencies point one way: sources and decoders are devices; the core only sees events.
"""
