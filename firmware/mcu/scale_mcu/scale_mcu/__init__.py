"""Smart-cart scale MCU firmware (protocol: firmware/protocol/PROTOCOL.md).

Modules: frames (CRC-16, framing, command decoder), sampler (HX711 -> sequenced batches and status),
commands (identify/ping/set rate/power/reboot/maintenance with token de-duplication), watchdog, ports
(USB stdio or UART byte streams), app (the main loop wiring them together), maintenance (the one-shot
marker that boots a board to the REPL).
"""

PROTOCOL_VERSION = 1
FIRMWARE_VERSION = (1, 1, 0)
