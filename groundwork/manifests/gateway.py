"""Gateway API: the CRDs, the declared controller, a GatewayClass and the `groundwork` Gateway.

- envoy-gateway: the pinned upstream `install.yaml` bundle carries the
  Gateway API CRDs of its release, Envoy Gateway's CRDs, the controller
  Deployment, its RBAC and the certgen Job for its xDS certificates (one
  bundle, so the Gateway API CRDs are not installed twice). Groundwork
  renders the GatewayClass `envoy-gateway` and the Gateway
  (templates/addons/envoy-gateway/envoy-gateway.yaml.j2). Envoy Gateway
  serves no Ingress, so `gateway.ingressClass` is refused with it.
- traefik: the Gateway API standard CRDs (the files of the
  sigs.k8s.io/gateway-api module components/traefik pins, Traefik's own
  build dependency), then Traefik rendered in full
  (templates/addons/traefik/traefik.yaml.j2: ServiceAccount, RBAC,
  Deployment, Service; no version check or usage report, an air-gapped
  site's controller calls nobody), GatewayClass `traefik`, the Gateway, and
  an IngressClass when `gateway.ingressClass` is set. Traefik binds Gateway
  listeners to its entry points by port, so the listener is on the `web`
  entry point's port (8000) and the Service maps 80.

The Gateway `groundwork` accepts HTTPRoutes from every namespace: the
workloads layer parents its routes to it. ingress-nginx is never offered
(the spec refuses it).
"""

from __future__ import annotations

from groundwork.manifests import versions
from groundwork.manifests.bundles import Bundle, ModuleFiles
from groundwork.manifests.common import Obj
from groundwork.manifests.templating import render_objects
from groundwork.plan import ClusterPlan
from groundwork.spec.model import ClusterSpec, GatewayController

# The workloads layer's routes use these; the namespaces are the ones the
# templates place the Gateway in (envoy-gateway's is its bundle's).
GATEWAY_API = "gateway.networking.k8s.io/v1"
GATEWAY_NAME = "groundwork"
ENVOY_NS = "envoy-gateway-system"
TRAEFIK_NS = "traefik"


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
        return render_objects(
            "addons/envoy-gateway/envoy-gateway.yaml.j2", gateway_name=GATEWAY_NAME
        )
    if controller is GatewayController.TRAEFIK:
        return traefik(spec)
    return []


def traefik(spec: ClusterSpec) -> list[Obj]:
    ingress_class = spec.gateway.ingress_class
    # Without a load balancer provider the Gateway is reached on node ports.
    lb = spec.load_balancer.provider != "none"
    return render_objects(
        "addons/traefik/traefik.yaml.j2",
        image=versions.TRAEFIK.image("traefik"),
        gateway_name=GATEWAY_NAME,
        service_type="LoadBalancer" if lb else "NodePort",
        ingress_class=ingress_class,
        ingress_class_arg=f"--providers.kubernetesingress.ingressclass={ingress_class}",
    )
