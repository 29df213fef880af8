"""An SMTP server for the deployment check: accepts every message after a short pause and
appends one JSON line per message (Message-ID, recipients, subject) to a file.
Usage: python -m tests.production.smtp_sink PORT FILE [DELAY_SECONDS]"""

from __future__ import annotations

import asyncio
import json
import sys
from email import message_from_bytes
from email.header import decode_header, make_header

from aiosmtpd.controller import Controller


class Recorder:
    def __init__(self, path: str, delay: float):
        self.path, self.delay = path, delay

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(self.delay)
        message = message_from_bytes(envelope.content)
        line = {
            "message_id": message["Message-ID"],
            "to": envelope.rcpt_tos,
            "subject": str(make_header(decode_header(message["Subject"] or ""))),
        }
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
        return "250 OK"


def main() -> None:
    port, path = int(sys.argv[1]), sys.argv[2]
    delay = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
    controller = Controller(Recorder(path, delay), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"smtp sink on 127.0.0.1:{port}", flush=True)
    try:
        asyncio.run(asyncio.Event().wait())
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
