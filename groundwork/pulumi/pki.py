"""The cluster PKI as Pulumi resources: material kept in state, keys as secrets.

Fresh keys cannot be derived deterministically from the stack config, so the
material must live somewhere between runs. In the Pulumi path that place is
the state of a dynamic resource (`PkiMaterial`): `create` generates the bundle
once, later runs read it back from state, and `update` runs the same
`groundwork.pki.ensure_bundle` the CLI runs over files, so only leaves whose
request changed are re-issued and a CA is never replaced. The private keys
are `additional_secret_outputs`, so the state stores them encrypted.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import pulumi
from pulumi import dynamic
from pulumi.runtime.rpc import unwrap_rpc_secret

from groundwork.pki import CertificateRequest, PkiBundle, ensure_bundle

PKI_TYPE = "groundwork:pki:Pki"
SECRET_OUTPUTS = ["privateKeys"]


def _plain(props: dict[str, Any]) -> dict[str, Any]:
    """Top-level values without secret wrappers.

    The dynamic provider host tells the engine it does not accept secrets, so
    values arrive plain today; unwrapping keeps `update` correct if that changes.
    """
    return {key: unwrap_rpc_secret(value) for key, value in props.items()}


def _requests(props: dict[str, Any]) -> list[CertificateRequest]:
    return [CertificateRequest.from_dict(dict(r)) for r in props.get("requests") or []]


def _canonical(props: dict[str, Any]) -> list[dict[str, object]]:
    """Requests in a comparable form: order does not matter, content does."""
    return sorted((r.to_dict() for r in _requests(props)), key=lambda r: str(r["name"]))


class PkiProvider(dynamic.ResourceProvider):
    """CRUD for the PKI material; runs in the dynamic provider host under `pulumi up`."""

    # The provider captures nothing secret; its code is not worth encrypting.
    serialize_as_secret_always = False

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> dynamic.CheckResult:
        try:
            names = [r.stem for r in _requests(news)]
            if len(names) != len(set(names)):
                raise ValueError("two certificate requests share a file name")
        except (ValueError, KeyError, TypeError) as err:
            return dynamic.CheckResult(news, [dynamic.CheckFailure("requests", str(err))])
        return dynamic.CheckResult(news, [])

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        ensured = ensure_bundle(PkiBundle(), _requests(props))
        return dynamic.CreateResult(f"pki-{uuid.uuid4().hex}", self._outputs(props, ensured.bundle))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        # Only the requests are inputs; the material is derived state.
        changed = _canonical(olds) != _canonical(news)
        return dynamic.DiffResult(
            changes=changed,
            replaces=[],
            stables=["certificates", "privateKeys", "serviceAccountPublicKey"]
            if not changed
            else [],
            delete_before_replace=False,
        )

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        ensured = ensure_bundle(PkiBundle.from_dict(_plain(olds)), _requests(news))
        return dynamic.UpdateResult(self._outputs(news, ensured.bundle))

    def read(self, id_: str, props: dict[str, Any]) -> dynamic.ReadResult:
        # Nothing exists outside the state: what the state holds is the truth.
        return dynamic.ReadResult(id_, props)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        # The material lives only in the state, which Pulumi drops itself.
        return None

    @staticmethod
    def _outputs(props: dict[str, Any], bundle: PkiBundle) -> dict[str, Any]:
        return {"requests": list(props.get("requests") or []), **bundle.to_dict()}


class PkiMaterial(dynamic.Resource, module="groundwork", name="PkiMaterial"):
    """Every CA, leaf and the service-account key of one cluster, as resource state."""

    # Attribute names are the state's property names (camelCase, as in to_dict).
    requests: pulumi.Output[list[dict[str, Any]]]
    certificates: pulumi.Output[dict[str, str]]
    privateKeys: pulumi.Output[dict[str, str]]
    serviceAccountPublicKey: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        requests: Sequence[CertificateRequest],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        secret = pulumi.ResourceOptions(additional_secret_outputs=SECRET_OUTPUTS)
        props: dict[str, Any] = {
            "requests": [r.to_dict() for r in requests],
            # Declared as None so the SDK creates the output attributes.
            "certificates": None,
            "privateKeys": None,
            "serviceAccountPublicKey": None,
        }
        super().__init__(PkiProvider(), name, props, pulumi.ResourceOptions.merge(opts, secret))


class Pki(pulumi.ComponentResource):
    """The cluster's CAs, certificates and service-account key (type groundwork:pki:Pki).

    Certificates are plain outputs keyed by their file stem ("ca", "etcd/ca",
    "apiserver", "etcd/cp1-server" ...); every private key is a secret output.
    """

    certificates: pulumi.Output[dict[str, str]]
    private_keys: pulumi.Output[dict[str, str]]
    service_account_public_key: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        requests: Sequence[CertificateRequest],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(PKI_TYPE, name, None, opts)
        material = PkiMaterial(f"{name}-material", requests, pulumi.ResourceOptions(parent=self))
        self.material = material
        self.certificates = material.certificates
        # Secret here as well as in state: anything derived from a key stays secret.
        self.private_keys = pulumi.Output.secret(material.privateKeys)
        self.service_account_public_key = material.serviceAccountPublicKey
        self.register_outputs(
            {
                "certificates": self.certificates,
                "privateKeys": self.private_keys,
                "serviceAccountPublicKey": self.service_account_public_key,
            }
        )

    def certificate(self, stem: str) -> pulumi.Output[str]:
        return self.certificates.apply(lambda certs: certs[stem])

    def private_key(self, stem: str) -> pulumi.Output[str]:
        return pulumi.Output.secret(self.private_keys.apply(lambda keys: keys[stem]))
