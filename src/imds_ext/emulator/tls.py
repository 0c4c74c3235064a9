"""The emulator's certificate authority and server certificate (trustme); the CA is written to a PEM file."""
from __future__ import annotations

import os
import ssl

import trustme

CA_FILE_NAME = "emulator-ca.pem"
SERVER_FILE_NAME = "emulator-server.pem"  # the server's key and certificate chain; readable by its owner only


class Certificates:
    def __init__(self, directory: str, host: str):
        self.ca = trustme.CA(organization_name="imds-ext ARM emulator",
                             organization_unit_name="local test CA (not trusted anywhere else)")
        names = ["localhost", "127.0.0.1", "::1"]
        if host and host not in names and host not in ("0.0.0.0", "::"):
            names.append(host)
        self.server_cert = self.ca.issue_cert(*names)
        os.makedirs(directory, exist_ok=True)
        self.ca_path = os.path.join(directory, CA_FILE_NAME)
        self.ca.cert_pem.write_to_path(self.ca_path)
        self.server_pem_path = os.path.join(directory, SERVER_FILE_NAME)
        fd = os.open(self.server_pem_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.close(fd)
        self.server_cert.private_key_and_cert_chain_pem.write_to_path(self.server_pem_path)

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        self.server_cert.configure_cert(ctx)
        return ctx
