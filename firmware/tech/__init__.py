"""Technician tools behind `cartctl flash|provision|calibrate|selftest|diag`: flashing the scale MCU,
provisioning a cart, guided calibration with the legal-for-trade arithmetic, self-test checks and
support bundles, plus the device profiles of `hardware/profiles/`."""
