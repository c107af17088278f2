"""Writes firmware/protocol/vectors.json, the scale-link test vectors both ends are checked against.

Run after changing PROTOCOL.md: `python -m tools.make_scale_vectors`. The vectors are produced with
the Pi codec; the MicroPython implementation and a bit-by-bit CRC in the Pi tests check them
independently, and the first IDENTIFY frame is worked out by hand in PROTOCOL.md.
"""

from __future__ import annotations

import json
from pathlib import Path

from firmware.scale import protocol as p

OUT = Path(__file__).resolve().parents[1] / "firmware" / "protocol" / "vectors.json"


def _frame(name: str, direction: str, msg_type: int, fields: dict, raw: bytes) -> dict:
    return {"name": name, "direction": direction, "type": msg_type, "fields": fields, "hex": raw.hex()}


def build() -> dict:
    frames = []
    m2p, p2m = "mcu_to_pi", "pi_to_mcu"
    batch = [8_388_607, -8_388_608, 0, 1, -1, 123_456, -654_321, 50_000]
    frames.append(
        _frame(
            "samples_8",
            m2p,
            p.MsgType.SAMPLES,
            {"seq": 0x1234, "counts": batch},
            p.encode_samples(0x1234, batch),
        )
    )
    frames.append(
        _frame(
            "samples_1_wrap",
            m2p,
            p.MsgType.SAMPLES,
            {"seq": 65535, "counts": [42]},
            p.encode_samples(65535, [42]),
        )
    )
    for name, state, sps, seq, cause in (
        ("status_boot", 0, 80, 0, 1),
        ("status_chip_silent", 1, 80, 1000, 0),
        ("status_powered_down_heartbeat", 2, 10, 65000, 2),
        ("status_chip_fault", 3, 80, 7, 0),
    ):
        fields = {"state": state, "sps": sps, "next_seq": seq, "cause": cause}
        frames.append(_frame(name, m2p, p.MsgType.STATUS, fields, p.encode_status(state, sps, seq, cause)))
    identity = p.Identity(1, (1, 1, 0), 80, 1, 128, 0x0102, "rp2-pico")
    frames.append(
        _frame(
            "ack_identify",
            m2p,
            p.MsgType.ACK,
            {
                "token": 1,
                "command": 0x10,
                "result": 0,
                "identity": {
                    "protocol": 1,
                    "firmware": [1, 1, 0],
                    "sps": 80,
                    "channels": 1,
                    "gain": 128,
                    "next_seq": 0x0102,
                    "board": "rp2-pico",
                },
            },
            p.encode_ack(1, 0x10, 0, p.encode_identity(identity)),
        )
    )
    for name, token, cmd, result, data in (
        ("ack_ping", 2, 0x11, 0, b"\x01\x02\x03"),
        ("ack_set_rate", 3, 0x12, 0, b"\x0a"),
        ("ack_set_rate_bad", 4, 0x12, 1, b""),
        ("ack_power_down", 5, 0x13, 0, b""),
        ("ack_unknown", 6, 0x3F, 2, b""),
        ("ack_bad_length", 7, 0x13, 3, b""),
        ("ack_maintenance", 8, 0x16, 0, b""),
    ):
        fields = {"token": token, "command": cmd, "result": result, "data": data.hex()}
        frames.append(_frame(name, m2p, p.MsgType.ACK, fields, p.encode_ack(token, cmd, result, data)))
    for name, cmd, token, args in (
        ("cmd_identify", 0x10, 1, b""),
        ("cmd_ping", 0x11, 2, b"\x01\x02\x03"),
        ("cmd_set_rate_10", 0x12, 3, b"\x0a"),
        ("cmd_set_rate_80", 0x12, 4, b"\x50"),
        ("cmd_power_down", 0x13, 5, b""),
        ("cmd_power_up", 0x14, 6, b""),
        ("cmd_reboot", 0x15, 255, b""),
        ("cmd_maintenance", 0x16, 8, b""),
    ):
        fields = {"command": cmd, "token": token, "args": args.hex()}
        frames.append(_frame(name, p2m, cmd, fields, p.encode_command(cmd, token, args)))

    good_samples = p.encode_samples(7, [1, 2])
    bad_crc = bytearray(good_samples)
    bad_crc[-1] ^= 0x01
    bad_len = bytearray(good_samples)
    bad_len[2] = 7  # 3 + 3n impossible
    identify = p.encode_command(0x10, 1)
    bad_cmd_crc = bytearray(identify)
    bad_cmd_crc[4] ^= 0x80
    reject = [
        {"name": "samples_bad_crc", "direction": m2p, "hex": bytes(bad_crc).hex(), "why": "crc"},
        {"name": "samples_bad_len", "direction": m2p, "hex": bytes(bad_len).hex(), "why": "length"},
        {"name": "unknown_type", "direction": m2p, "hex": p.encode_frame(0x7E, b"\x00").hex(), "why": "type"},
        {
            "name": "too_long",
            "direction": m2p,
            "hex": (p.SYNC + bytes((121, 1)) + bytes(123)).hex(),
            "why": "length",
        },
        {"name": "truncated", "direction": m2p, "hex": good_samples[:-1].hex(), "why": "truncated"},
        {"name": "command_bad_crc", "direction": p2m, "hex": bytes(bad_cmd_crc).hex(), "why": "crc"},
        {
            "name": "command_token_zero",
            "direction": p2m,
            "hex": p.encode_frame(0x10, b"\x00").hex(),
            "why": "token",
        },
    ]
    return {
        "protocol": p.PROTOCOL_VERSION,
        "crc_check": {"ascii": "123456789", "crc": 0x29B1},
        "frames": frames,
        "reject": reject,
    }


def main() -> int:
    OUT.write_text(json.dumps(build(), indent=1) + "\n")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
