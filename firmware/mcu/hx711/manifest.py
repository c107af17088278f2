metadata(
    description="HX711 load-cell ADC driver: sampling logic over a swappable chip IO (GPIO bit-bang, RP2040 PIO, fake).",
    version="1.0.0",
)

package("hx711")
