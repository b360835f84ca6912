"""`make test-compat`, mail: nanopy's email target through the real msmtp (Debian's package)
into a real SMTP server on 127.0.0.1 (aiosmtpd from PyPI), checking the message a mail client
would see: headers, the encoded subject, the UTF-8 body. Loopback only.
Usage: test_email.py NANOPY_BINARY PYTHON_WITH_AIOSMTPD
"""

import email
import email.header
import email.policy
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

from harness import Checks, free_port

SERVER = r'''
import asyncio, sys
from aiosmtpd.controller import Controller

class Save:
    def __init__(self, folder):
        self.folder, self.count = folder, 0
    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        with open("%s/%03d.eml" % (self.folder, self.count), "wb") as f:
            f.write(envelope.original_content)
        return "250 OK"

controller = Controller(Save(sys.argv[2]), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()
'''


def main():
    binary, python = os.path.abspath(sys.argv[1]), sys.argv[2]
    home = tempfile.mkdtemp(prefix="nanopy-email-")
    mailbox = os.path.join(home, "mailbox")
    os.mkdir(mailbox)
    port = free_port()
    server = subprocess.Popen([python, "-c", SERVER, str(port), mailbox],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert server.stdout.readline().strip() == "ready"
    msmtprc = os.path.join(home, "msmtprc")
    with open(msmtprc, "w") as f:
        f.write("defaults\nauth off\ntls off\n\naccount default\nhost 127.0.0.1\n"
                "port %d\nfrom pi@home.lan\n" % port)
    os.chmod(msmtprc, 0o600)
    with open(os.path.join(home, "config.json"), "w") as f:
        json.dump({"targets": {"ops": {"email": "ops@example.com",
                                       "sendmail": "msmtp -C %s" % msmtprc}}}, f)
    env = dict(os.environ, NANOPYBOT_HOME=home)
    checks = Checks()
    check = checks.check

    text = "Disk /dev/sda1 is 93% full — prüfen, bitte.\nSecond line."
    run = subprocess.run([binary, "notify", "ops", text], env=env, capture_output=True,
                         text=True)
    check("notify ops through msmtp exits 0", run.returncode == 0, run.stderr)
    time.sleep(0.5)
    files = sorted(os.listdir(mailbox))
    check("the SMTP server received one message", len(files) == 1, files)
    if files:
        with open(os.path.join(mailbox, files[0]), "rb") as f:
            message = email.message_from_binary_file(f, policy=email.policy.default)
        # No `from` in the target: nanopy@<this host>, as SPEC §12 says.
        check("From and To", message["From"] == "nanopy@" + socket.gethostname()
              and message["To"] == "ops@example.com", (message["From"], message["To"]))
        check("Subject", message["Subject"] == "[nanopy] message", message["Subject"])
        check("Date and Message-ID", message["Date"] is not None and message["Message-ID"] is not None)
        check("text/plain UTF-8", message.get_content_type() == "text/plain"
              and message.get_content_charset() == "utf-8")
        body = message.get_content()
        check("the body decodes to the text", body.replace("\r\n", "\n").rstrip("\n") == text, repr(body))
    # A job's run: the subject names the job and its status, encoded when not ASCII.
    subprocess.run([binary, "cron-add", "--name", "sauvegarde ✓", "--message", "m", "--cron",
                    "0 0 1 1 *", "--to", "ops", "--check", "echo ok; exit 1", "--notify-on",
                    "quiet"], env=env, check=True, capture_output=True)
    fire = subprocess.run([binary, "cron-fire", "sauvegarde ✓"], env=env, capture_output=True,
                          text=True)
    check("a quiet job's run is mailed", fire.returncode == 0, fire.stderr)
    time.sleep(0.5)
    files = sorted(os.listdir(mailbox))
    if len(files) == 2:
        with open(os.path.join(mailbox, files[1]), "rb") as f:
            message = email.message_from_binary_file(f, policy=email.policy.default)
        check("an encoded subject decodes", message["Subject"] == "[nanopy] sauvegarde ✓: quiet",
              message["Subject"])
        raw = open(os.path.join(mailbox, files[1]), "rb").read()
        check("the raw subject is an RFC 2047 word", b"Subject: =?UTF-8?B?" in raw)
    else:
        check("a second message arrived", False, files)
    # The server gone: msmtp fails, so the delivery waits for a retry, nothing is lost.
    server.stdin.close()
    server.wait(timeout=10)
    subprocess.run([binary, "cron-fire", "sauvegarde ✓"], env=env, capture_output=True)
    history = json.loads(subprocess.run([binary, "cron-history", "sauvegarde ✓", "--json"],
                                        env=env, capture_output=True, text=True).stdout)
    delivery = history[0]["deliveries"][0]
    check("with the SMTP server down the delivery is pending, to be retried",
          delivery["state"] == "pending" and delivery["attempts"] == 1
          and "msmtp" in (delivery["error"] or ""), delivery)
    checks.finish()


if __name__ == "__main__":
    main()
