"""A mail sink for the end-to-end tests: an aiosmtpd SMTP server on a free loopback port.

    python sink.py DIR

Prints the port it listens on as its first line, then writes each message it receives to
DIR/NNNN.txt (the envelope's sender and recipients, the subject, then the decoded plain-text
body), through a temporary name and a rename, so a reader never sees half a message. Runs until
killed.
"""

import asyncio
import email
import os
import sys
from email import policy

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, folder):
        self.folder = folder
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        part = message.get_body(preferencelist=("plain",))
        body = part.get_content() if part is not None else ""
        text = (
            f"From: {envelope.mail_from}\n"
            f"To: {', '.join(envelope.rcpt_tos)}\n"
            f"Subject: {message['subject']}\n\n{body}"
        )
        path = os.path.join(self.folder, f"{self.count:04}.txt")
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            f.write(text)
        os.rename(path + ".tmp", path)
        return "250 OK"


async def main(folder):
    sink = Sink(folder)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(sink), "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
