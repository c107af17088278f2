"""Smart-cart scale MCU firmware (protocol: firmware/protocol/PROTOCOL.md).

Modules: frames (CRC-16, framing, command decoder), sampler (HX711 -> sequenced batches and status),
commands (identify/ping/set rate/power/reboot with token de-duplication), watchdog, ports (USB stdio
or UART byte streams), app (the main loop wiring them together).
"""

PROTOCOL_VERSION = 1
FIRMWARE_VERSION = (1, 0, 0)
