# Board image for the scale MCU: freeze with
#   make -C ports/rp2 BOARD=RPI_PICO FROZEN_MANIFEST=$PWD/firmware/mcu/manifest.py
include("$(PORT_DIR)/boards/manifest.py")
include("hx711")
include("scale_mcu")
module("main.py")
