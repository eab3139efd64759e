"""A real SMTP server that requires STARTTLS and then AUTH (PLAIN or LOGIN),
for the email channel's tests: aiosmtpd's command line has no auth option.

usage: smtp_auth_server.py PORT CERT KEY USER PASSWORD
Prints "ready" once listening, "auth ok USER" or "auth failed USER" for
each attempt, and each message between BEGIN and END.
"""
import ssl
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

port, cert, key, user, password = sys.argv[1:6]


def authenticate(server, session, envelope, mechanism, auth_data):
    if not isinstance(auth_data, LoginPassword):
        return AuthResult(success=False, handled=False)
    login = auth_data.login.decode()
    ok = login == user and auth_data.password.decode() == password
    print(f"auth {'ok' if ok else 'failed'} {login}", flush=True)
    # handled=False: aiosmtpd answers a failure with its own 535
    return AuthResult(success=ok, handled=False)


class Handler:
    async def handle_DATA(self, server, session, envelope):
        print("BEGIN", flush=True)
        print(envelope.content.decode("utf8", errors="replace"), flush=True)
        print("END", flush=True)
        return "250 Message accepted for delivery"


context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(cert, key)
controller = Controller(
    Handler(),
    hostname="127.0.0.1",
    port=int(port),
    authenticator=authenticate,
    auth_required=True,
    auth_require_tls=True,
    require_starttls=True,
    tls_context=context,
)
controller.start()
print("ready", flush=True)
try:
    while True:
        time.sleep(1)
except KeyboardInterrupt:
    pass
finally:
    controller.stop()
