"""`hotline call NUMBER --keys 1 --hold 5`: a simulated caller, and the IVR path it took."""

from __future__ import annotations

import argparse
import json

from hotline import bootstrap
from hotline.settings import load_settings
from hotline.sip.caller import place_call
from hotline.sip.scenario import CallerScript
from ivr import callrecord


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("call", help="place a simulated call with SIPp and print the result")
    parser.add_argument("number", nargs="?", default=None, help="number to dial (default: hotline)")
    parser.add_argument("--keys", default="", help="DTMF keys the caller presses, e.g. 1 or 4#")
    parser.add_argument("--dtmf", choices=("info", "rfc2833"), default="info")
    parser.add_argument("--hold", type=float, default=5.0, help="seconds to stay after the keys")
    parser.add_argument("--first-key", type=float, default=2.5, help="seconds before the 1st key")
    parser.add_argument("--gap", type=float, default=1.5, help="seconds between keys")
    parser.add_argument("--caller", default="13800138000", help="caller number (From user)")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    settings = load_settings()
    engine = bootstrap.database(settings)
    script = CallerScript(
        keys=args.keys,
        dtmf=args.dtmf,
        first_key_ms=int(args.first_key * 1000),
        key_gap_ms=int(args.gap * 1000),
        hold_ms=int(args.hold * 1000),
        caller=args.caller,
    )

    def lookup(sip_call_id: str) -> dict[str, object] | None:
        record = callrecord.find_by_sip_call_id(engine, sip_call_id)
        return record.as_dict() if record else None

    target = f"{settings.sip_bind}:{settings.sip_port}"
    result = place_call(
        target, args.number or settings.hotline_number, script, lookup, timeout_s=args.timeout
    )
    print(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    return 0 if result.outcome == "completed" else 1
