"""What a certificate must say: the data the plan produces and the PKI consumes.

A request names its issuing CA and its file stem; the PKI never derives SANs
itself, so the plan (or the standard builders in `standard.py`) decides them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import ip_address
from typing import Literal

Usage = Literal["server", "client"]
CaName = Literal["cluster", "etcd", "front-proxy"]

CA_NAMES: tuple[CaName, ...] = ("cluster", "etcd", "front-proxy")

# Stems the CAs and the service-account key occupy in the store layout; a
# leaf with one of these names would overwrite them.
RESERVED_STEMS = frozenset({"ca", "front-proxy-ca", "sa", "etcd/ca"})

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")


@dataclass(frozen=True)
class CertificateRequest:
    """One leaf certificate. `name` is its file stem (etcd leaves live in etcd/)."""

    name: str
    common_name: str
    organization: tuple[str, ...] = ()
    dns_sans: tuple[str, ...] = ()
    ip_sans: tuple[str, ...] = ()
    usages: frozenset[Usage] = frozenset({"client"})
    ca: CaName = "cluster"

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"certificate name {self.name!r} is not a file-safe DNS label")
        if self.stem in RESERVED_STEMS:
            raise ValueError(f"certificate name {self.name!r} is reserved for a CA or key")
        if not self.common_name:
            raise ValueError(f"certificate {self.name!r}: empty common name")
        if not self.usages or not self.usages <= {"server", "client"}:
            raise ValueError(f"certificate {self.name!r}: usages must be server and/or client")
        if self.ca not in CA_NAMES:
            raise ValueError(f"certificate {self.name!r}: unknown CA {self.ca!r}")
        for address in self.ip_sans:
            ip_address(address)  # raises ValueError naming the bad address

    @property
    def stem(self) -> str:
        """Path of the .crt/.key pair relative to the pki directory, without suffix."""
        return f"etcd/{self.name}" if self.ca == "etcd" else self.name

    def to_dict(self) -> dict[str, object]:
        """A JSON-able form (Pulumi inputs); lists sorted so equal requests compare equal."""
        return {
            "name": self.name,
            "commonName": self.common_name,
            "organization": list(self.organization),
            "dnsSans": list(self.dns_sans),
            "ipSans": list(self.ip_sans),
            "usages": sorted(self.usages),
            "ca": self.ca,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> CertificateRequest:
        def strings(key: str) -> tuple[str, ...]:
            value = data.get(key, [])
            if not isinstance(value, list | tuple):
                raise ValueError(f"{key} must be a list")
            return tuple(str(v) for v in value)

        usages: set[Usage] = set()
        for usage in strings("usages"):
            if usage not in ("server", "client"):
                raise ValueError(f"unknown usage {usage!r}")
            usages.add("server" if usage == "server" else "client")
        ca = str(data["ca"])
        if ca not in CA_NAMES:
            raise ValueError(f"unknown CA {ca!r}")
        return cls(
            name=str(data["name"]),
            common_name=str(data["commonName"]),
            organization=strings("organization"),
            dns_sans=strings("dnsSans"),
            ip_sans=strings("ipSans"),
            usages=frozenset(usages),
            ca="cluster" if ca == "cluster" else "etcd" if ca == "etcd" else "front-proxy",
        )
