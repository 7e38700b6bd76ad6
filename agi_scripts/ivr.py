"""Classic AGI: `AGI(/opt/hotline/.venv/bin/hotline-agi-ivr)` runs the IVR over stdin/stdout.

For an Asterisk that can't reach the FastAGI server (or for debugging one call). Each call
starts a Python process, so the FastAGI server is what production uses.
"""

from __future__ import annotations

import signal
import sys

from hotline import bootstrap, logs
from hotline.errors import HotlineError
from hotline.settings import load_settings
from ivr.agi import ChannelGone, SocketAGI
from ivr.app import build_ivr, routes
from ivr.fastagi import AgiCall, run_call


def main() -> int:
    # Classic AGI gets SIGHUP when the caller hangs up; commands on the dead channel then
    # answer 511, which ends the call cleanly. The default action would kill us mid-write.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        settings = load_settings()
    except HotlineError as exc:
        print(f"hotline: {exc}", file=sys.stderr)
        return 2
    logs.configure(settings.log_level)
    try:
        agi = SocketAGI(sys.stdin, sys.stdout)
    except ChannelGone:
        return 0
    service = build_ivr(settings, bootstrap.database(settings))
    run_call(routes(service), AgiCall(agi=agi, script="ivr", params={}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
