"""Where CNI plugins and their configuration live on every node (containerd and
the kubelet look there)."""

CNI_BIN = "/opt/cni/bin"
CNI_CONF = "/etc/cni/net.d"
