"""deploy/compose.yaml without a Docker engine: it is a valid Compose file (the compose-spec
schema that check-jsonschema vendors, so no network), everything it refers to exists, it runs
what the issue asks for, and the reverse proxy's own errors have the API's JSON error shape."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from tests.deploy.conftest import APP_SERVICES, DEPLOY, settings_read_by_the_code


def test_the_compose_file_is_valid_against_the_compose_specification():
    done = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
         str(DEPLOY / "compose.yaml")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_depends_on_network_volume_secret_and_config_exists(compose):
    services = compose["services"]
    for name, service in services.items():
        depends = service.get("depends_on") or {}
        for target in depends:
            assert target in services, f"{name} depends on unknown service {target}"
            assert target != name
        for network in service.get("networks") or []:
            assert network in compose["networks"], f"{name}: unknown network {network}"
        for volume in service.get("volumes") or []:
            source = volume.split(":", 1)[0] if isinstance(volume, str) else volume["source"]
            if not source.startswith((".", "/")):
                assert source in compose["volumes"], f"{name}: unknown volume {source}"
        for secret in service.get("secrets") or []:
            key = secret if isinstance(secret, str) else secret["source"]
            assert key in compose["secrets"], f"{name}: unknown secret {key}"
        for config in service.get("configs") or []:
            key = config if isinstance(config, str) else config["source"]
            assert key in compose["configs"], f"{name}: unknown config {key}"
    for key, config in compose["configs"].items():
        if "file" in config:
            assert (DEPLOY / config["file"]).is_file(), f"config {key}: no {config['file']}"
    build = services["gateway"]["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).is_file()


def test_it_runs_a_replica_set_rabbitmq_with_plugins_and_two_replicas_of_each_process(compose):
    services = compose["services"]
    for name in (*APP_SERVICES, "gateway"):
        assert services[name]["deploy"]["replicas"] >= 2, name
        assert services[name]["image"] == services["gateway"]["image"]  # one image
    members = re.findall(r'host: "(mongo\d):27017"',
                         (DEPLOY / "mongo/init-replica-set.js").read_text())
    assert sorted(members) == ["mongo1", "mongo2", "mongo3"]
    assert all(m in services and "--replSet" in services[m]["command"] for m in members)
    assert "replicaSet=rs0" in services["catalog"]["environment"]["MONGO_URL"]
    plugins = compose["configs"]["rabbitmq_plugins"]["content"]
    assert "rabbitmq_management" in plugins and "rabbitmq_prometheus" in plugins
    assert {"proxy", "prometheus", "grafana"} <= set(services)
    # Only the proxy (and operators' consoles on loopback) face outside.
    assert "ports" not in services["gateway"]
    assert "frontend" in services["proxy"]["networks"]


def test_every_setting_the_code_reads_is_in_the_services_environment(compose):
    for name in (*APP_SERVICES, "gateway"):
        missing = settings_read_by_the_code() - set(compose["services"][name]["environment"])
        assert not missing, f"{name} lacks {sorted(missing)}"


def test_the_proxy_answers_its_own_errors_in_the_api_error_shape():
    from services.gateway.errors import ErrorSchema

    conf = (DEPLOY / "nginx/nginx.conf").read_text()
    pages = dict(re.findall(r"error_page (\d{3}) @(\w+);", conf))
    assert set(pages) == {"413", "414", "502", "503", "504"}
    for status, location in pages.items():
        block = re.search(rf"location @{location} \{{(.*?)\n    \}}", conf, re.S)
        assert block, f"no location @{location}"
        body = block.group(1)
        assert "default_type application/json;" in body
        returned = re.search(r"return (\d{3}) '(.*)';", body)
        assert returned and returned.group(1) == status
        document = json.loads(returned.group(2))
        assert ErrorSchema().validate(document) == {}, document
        assert document["error"]["details"] == {}
