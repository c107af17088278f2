metadata(
    description="Smart-cart scale MCU firmware: HX711 sampler, framed serial link (CRC-16), commands, watchdog.",
    version="1.1.0",
)

# needs the hx711 package next to it (include("../hx711") in a board manifest)
package("scale_mcu")
