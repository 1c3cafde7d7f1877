"""deploy/k8s without a cluster: each overlay renders with ``kubectl kustomize`` and every
object is valid for Kubernetes (kubernetes-validate, strict, its bundled schemas); the
deployment has what the issue asks for."""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter

import kubernetes_validate
import pytest
import yaml

from services.probe import SERVICE_CLASSES
from tests.deploy.conftest import APP_SERVICES, DEPLOY, settings_read_by_the_code

OVERLAYS = ("dev", "prod")
# The operators' kinds: kubernetes-validate has no schema for them; checked below by hand.
OPERATOR_KINDS = {"MongoDBCommunity", "RabbitmqCluster"}

pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None,
                                reason="kubectl is not installed: cannot render kustomize")


def render(overlay: str) -> list[dict]:
    done = subprocess.run(["kubectl", "kustomize", str(DEPLOY / "k8s/overlays" / overlay)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


@pytest.fixture(scope="module", params=OVERLAYS)
def objects(request) -> list[dict]:
    return render(request.param)


def of_kind(objects: list[dict], kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def test_every_object_is_valid_for_kubernetes_in_strict_mode(objects):
    version = kubernetes_validate.latest_version()
    for obj in objects:
        if obj["kind"] in OPERATOR_KINDS:
            continue
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{obj['kind']}/{obj['metadata']['name']}: {exc.message} at "
                        f"{list(exc.path)}")
    names = Counter((o["kind"], o["metadata"]["name"]) for o in objects)
    assert max(names.values()) == 1, names


def test_each_process_is_a_deployment_with_replicas_resources_and_probes(objects):
    deployments = of_kind(objects, "Deployment")
    assert set(deployments) == {*APP_SERVICES, "gateway"}
    for name, deployment in deployments.items():
        assert deployment["spec"]["replicas"] >= 2, name
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(container["resources"][kind]), name
        assert container["readinessProbe"] and container["livenessProbe"], name
        refs = {next(iter(ref.values()))["name"] for ref in container["envFrom"]}
        assert refs == {"lifecircle-settings", "lifecircle-secrets"}
    for name in APP_SERVICES:
        container = deployments[name]["spec"]["template"]["spec"]["containers"][0]
        ready = container["readinessProbe"]["exec"]["command"]
        assert ready == ["python", "-m", "services.probe", name] and name in SERVICE_CLASSES
        assert container["livenessProbe"]["exec"]["command"] == [*ready, "--local"]


def test_the_gateway_has_a_service_ingress_autoscaler_and_every_deployment_a_budget(objects):
    gateway = of_kind(objects, "Deployment")["gateway"]
    labels = gateway["spec"]["template"]["metadata"]["labels"]
    service = of_kind(objects, "Service")["gateway"]
    assert service["spec"]["selector"].items() <= labels.items()
    backend = of_kind(objects, "Ingress")["lifecircle"]["spec"]["rules"][0]["http"]["paths"][0]
    assert backend["backend"]["service"]["name"] == "gateway"
    hpa = of_kind(objects, "HorizontalPodAutoscaler")["gateway"]
    assert hpa["spec"]["scaleTargetRef"]["name"] == "gateway"
    assert hpa["spec"]["minReplicas"] >= 2
    budgets = of_kind(objects, "PodDisruptionBudget")
    for name, deployment in of_kind(objects, "Deployment").items():
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert any(b["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
                   for b in budgets.values()), f"no PodDisruptionBudget for {name}"


def test_the_operator_resources_ask_for_three_member_clusters(objects):
    mongo = next(iter(of_kind(objects, "MongoDBCommunity").values()))
    assert mongo["spec"]["members"] == 3 and mongo["spec"]["type"] == "ReplicaSet"
    assert mongo["apiVersion"] == "mongodbcommunity.mongodb.com/v1"
    secrets = of_kind(objects, "Secret")
    for user in mongo["spec"]["users"]:
        assert user["passwordSecretRef"]["name"] in secrets
    rabbit = next(iter(of_kind(objects, "RabbitmqCluster").values()))
    assert rabbit["spec"]["replicas"] == 3 and rabbit["apiVersion"] == "rabbitmq.com/v1beta1"
    assert "rabbitmq_prometheus" in rabbit["spec"]["rabbitmq"]["additionalPlugins"]


def test_every_setting_the_code_reads_is_in_the_configmap_or_the_secret(objects):
    config = of_kind(objects, "ConfigMap")["lifecircle-settings"]["data"]
    secret = of_kind(objects, "Secret")["lifecircle-secrets"]["stringData"]
    assert not set(config) & set(secret), "a setting in both"
    missing = settings_read_by_the_code() - set(config) - set(secret)
    assert not missing, sorted(missing)
