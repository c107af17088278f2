"""Board wiring of the scale MCU. Edit the constants for another board; `build()` turns them into
the chip IO, HX711 and port the app runs on."""

BOARD = "rp2-pico"
CLOCK_PIN = 3  # HX711 PD_SCK
DATA_PIN = 2  # HX711 DOUT
RATE_PIN = 4  # HX711 RATE (high = 80 samples/s); None when strapped on the board
GAIN = 128
SPS = 80
UART_ID = None  # None: the link is USB CDC (stdio); else the machine.UART number
UART_TX_PIN = 0
UART_RX_PIN = 1
BAUD = 115200
USE_PIO = True  # RP2040/RP2350: clock the chip out with a PIO state machine
WATCHDOG_MS = 2000


def build():
    import sys
    import time

    from machine import Pin

    from hx711 import HX711
    from scale_mcu.ports import StdioPort, UartPort

    clock = Pin(CLOCK_PIN, Pin.OUT, value=0)
    data = Pin(DATA_PIN, Pin.IN, Pin.PULL_UP)
    rate = None if RATE_PIN is None else Pin(RATE_PIN, Pin.OUT)
    if USE_PIO and sys.platform == "rp2":
        from hx711.pio_io import PioIO

        io = PioIO(clock, data, rate, SPS)
    else:
        from hx711.gpio_io import GpioIO

        io = GpioIO(clock, data, rate, SPS)
    chip = HX711(io, GAIN, SPS, time.ticks_ms(), time.ticks_diff)
    if UART_ID is None:
        port = StdioPort()
    else:
        from machine import UART

        uart = UART(UART_ID, BAUD, tx=Pin(UART_TX_PIN), rx=Pin(UART_RX_PIN), rxbuf=256, txbuf=512)
        port = UartPort(uart)
    return chip, port
