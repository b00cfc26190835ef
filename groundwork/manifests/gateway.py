"""Gateway API: the CRDs, the declared controller, a GatewayClass and the `groundwork` Gateway.

- envoy-gateway: the pinned upstream `install.yaml` bundle carries the
  Gateway API CRDs of its release, Envoy Gateway's CRDs, the controller
  Deployment, its RBAC and the certgen Job for its xDS certificates (one
  bundle, so the Gateway API CRDs are not installed twice). Groundwork
  renders the GatewayClass `envoy-gateway` and the Gateway. Envoy Gateway
  serves no Ingress, so `gateway.ingressClass` is refused with it.
- traefik: the Gateway API standard CRDs (the files of the
  sigs.k8s.io/gateway-api module components/traefik pins, Traefik's own
  build dependency), then Traefik rendered in full (ServiceAccount, RBAC,
  Deployment, Service; no version check or usage report, an air-gapped
  site's controller calls nobody), GatewayClass `traefik`,
  the Gateway, and an IngressClass when `gateway.ingressClass` is set.
  Traefik binds Gateway listeners to its entry points by port, so the
  listener is on the `web` entry point's port (8000) and the Service maps 80.

The Gateway `groundwork` accepts HTTPRoutes from every namespace: the
workloads layer parents its routes to it. ingress-nginx is never offered
(the spec refuses it).
"""

from __future__ import annotations

from groundwork.manifests import versions
from groundwork.manifests.bundles import Bundle, ModuleFiles
from groundwork.manifests.common import (
    Obj,
    env_field,
    meta,
    namespace,
    rbac,
    rule,
    workload,
)
from groundwork.plan import ClusterPlan
from groundwork.spec.model import ClusterSpec, GatewayController

GATEWAY_API = "gateway.networking.k8s.io/v1"
GATEWAY_NAME = "groundwork"
ENVOY_NS = "envoy-gateway-system"
ENVOY_CONTROLLER = "gateway.envoyproxy.io/gatewayclass-controller"
TRAEFIK_NS = "traefik"
TRAEFIK_CONTROLLER = "traefik.io/gateway-controller"
TRAEFIK_WEB_PORT = 8000


def gateway_namespace(spec: ClusterSpec) -> str | None:
    """Where the `groundwork` Gateway lives (None: no gateway controller)."""
    controller = GatewayController(spec.gateway.controller)
    if controller is GatewayController.ENVOY_GATEWAY:
        return ENVOY_NS
    if controller is GatewayController.TRAEFIK:
        return TRAEFIK_NS
    return None


def bundles(spec: ClusterSpec) -> list[Bundle]:
    controller = GatewayController(spec.gateway.controller)
    if controller is GatewayController.ENVOY_GATEWAY:
        eg = versions.ENVOY_GATEWAY
        return [Bundle("envoy-gateway", eg.bundles["install"], eg.version)]
    if controller is GatewayController.TRAEFIK:
        api = versions.GATEWAY_API
        files = ModuleFiles("traefik", "sigs.k8s.io/gateway-api", "config/crd/kustomization.yaml")
        return [Bundle("gateway-api-crds", api.bundles["standard"], api.version, files)]
    return []


def gateway(spec: ClusterSpec, _plan: ClusterPlan) -> list[Obj]:
    controller = GatewayController(spec.gateway.controller)
    if controller is GatewayController.ENVOY_GATEWAY:
        if spec.gateway.ingress_class:
            raise ValueError(
                "cluster.gateway.ingressClass: envoy-gateway serves no Ingress; "
                "use HTTPRoutes, or traefik for Ingress objects"
            )
        return [
            gateway_class("envoy-gateway", ENVOY_CONTROLLER),
            gateway_object("envoy-gateway", ENVOY_NS, 80),
        ]
    if controller is GatewayController.TRAEFIK:
        return traefik(spec)
    return []


def gateway_class(name: str, controller: str) -> Obj:
    return {
        "apiVersion": GATEWAY_API,
        "kind": "GatewayClass",
        "metadata": meta(name),
        "spec": {"controllerName": controller},
    }


def gateway_object(class_name: str, ns: str, port: int) -> Obj:
    return {
        "apiVersion": GATEWAY_API,
        "kind": "Gateway",
        "metadata": meta(GATEWAY_NAME, ns),
        "spec": {
            "gatewayClassName": class_name,
            "listeners": [
                {
                    "name": "http",
                    "protocol": "HTTP",
                    "port": port,
                    "allowedRoutes": {"namespaces": {"from": "All"}},
                }
            ],
        },
    }


def traefik(spec: ClusterSpec) -> list[Obj]:
    ingress_class = spec.gateway.ingress_class
    rules = [
        rule(
            [""],
            ["services", "secrets", "nodes", "namespaces", "configmaps"],
            ["get", "list", "watch"],
        ),
        rule(["discovery.k8s.io"], ["endpointslices"], ["list", "watch"]),
        rule(
            ["gateway.networking.k8s.io"],
            [
                "gatewayclasses",
                "gateways",
                "httproutes",
                "grpcroutes",
                "referencegrants",
                "backendtlspolicies",
            ],
            ["get", "list", "watch"],
        ),
        rule(
            ["gateway.networking.k8s.io"],
            [
                "gatewayclasses/status",
                "gateways/status",
                "httproutes/status",
                "grpcroutes/status",
                "backendtlspolicies/status",
            ],
            ["update"],
        ),
        rule(["networking.k8s.io"], ["ingresses", "ingressclasses"], ["get", "list", "watch"]),
        rule(["networking.k8s.io"], ["ingresses/status"], ["update"]),
    ]
    args = [
        f"--entryPoints.web.address=:{TRAEFIK_WEB_PORT}/tcp",
        "--entryPoints.websecure.address=:8443/tcp",
        "--ping=true",
        "--global.checkNewVersion=false",
        "--global.sendAnonymousUsage=false",
        "--providers.kubernetesgateway=true",
        "--providers.kubernetesgateway.statusaddress.service.name=traefik",
        f"--providers.kubernetesgateway.statusaddress.service.namespace={TRAEFIK_NS}",
    ]
    if ingress_class:
        args += [
            "--providers.kubernetesingress=true",
            f"--providers.kubernetesingress.ingressclass={ingress_class}",
        ]
    probe = {"httpGet": {"path": "/ping", "port": 8080}, "periodSeconds": 10}
    pod: Obj = {
        "serviceAccountName": "traefik",
        "securityContext": {"runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532},
        "containers": [
            {
                "name": "traefik",
                "image": versions.TRAEFIK.image("traefik"),
                "args": [*args, "--entryPoints.traefik.address=:8080/tcp"],
                "env": [env_field("POD_NAMESPACE", "metadata.namespace")],
                "ports": [
                    {"name": "web", "containerPort": TRAEFIK_WEB_PORT},
                    {"name": "websecure", "containerPort": 8443},
                    {"name": "traefik", "containerPort": 8080},
                ],
                "readinessProbe": probe,
                "livenessProbe": probe,
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "readOnlyRootFilesystem": True,
                    "capabilities": {"drop": ["ALL"]},
                },
            }
        ],
    }
    lb = spec.load_balancer.provider != "none"
    service: Obj = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta("traefik", TRAEFIK_NS, app="traefik"),
        "spec": {
            # Without a load balancer provider the Gateway is reached on node ports.
            "type": "LoadBalancer" if lb else "NodePort",
            "selector": {"app": "traefik"},
            "ports": [
                {"name": "web", "port": 80, "targetPort": "web", "protocol": "TCP"},
                {"name": "websecure", "port": 443, "targetPort": "websecure", "protocol": "TCP"},
            ],
        },
    }
    out = [
        namespace(TRAEFIK_NS),
        *rbac("traefik", TRAEFIK_NS, rules),
        workload("Deployment", "traefik", TRAEFIK_NS, pod, replicas=2),
        service,
        gateway_class("traefik", TRAEFIK_CONTROLLER),
        gateway_object("traefik", TRAEFIK_NS, TRAEFIK_WEB_PORT),
    ]
    if ingress_class:
        out.append(
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "IngressClass",
                "metadata": meta(ingress_class),
                "spec": {"controller": "traefik.io/ingress-controller"},
            }
        )
    return out
