"""The operator files: cluster.yaml passes Ray's own launcher validation; deploy/serve.yaml
and the RayService pass Serve's schema with no unknown key at any level."""

from __future__ import annotations

import copy
import json
import os
import types
import typing
from typing import Any

import jsonschema
import pytest
import ray.autoscaler
import yaml
from pydantic import BaseModel
from ray.autoscaler._private.util import prepare_config, validate_config
from ray.serve._private.build_app import build_app
from ray.serve.schema import ServeDeploySchema

from ppb.compose.serve import build_application
from ppb.config import load_settings
from tests.conftest import repo_root


def load(path: str) -> Any:
    return yaml.safe_load((repo_root() / path).read_text())


def models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models a field's type admits (through Optional, Union, list, dict)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for argument in typing.get_args(annotation):
        found.extend(models_in(argument))
    return found


def unknown_keys(model: type[BaseModel], data: Any, path: str = "") -> list[str]:
    """Every key of `data` that `model` (and the models below it) does not declare.

    Serve's models ignore keys they do not know, so a misspelled `max_replica` would be
    dropped silently; this walks the data alongside the models instead.
    """
    if not isinstance(data, dict):
        return []
    fields = {(field.alias or name): field for name, field in model.model_fields.items()}
    fields |= {name: field for name, field in model.model_fields.items()}
    problems = []
    for key, value in data.items():
        where = f"{path}.{key}" if path else key
        field = fields.get(key)
        if field is None:
            problems.append(where)
            continue
        for inner in models_in(field.annotation):
            items = value if isinstance(value, list) else [value]
            for index, item in enumerate(items):
                suffix = f"[{index}]" if isinstance(value, list) else ""
                problems.extend(unknown_keys(inner, item, where + suffix))
            break
    return problems


def test_the_key_check_catches_a_misspelling_serve_would_ignore() -> None:
    config = load("deploy/serve.yaml")
    config["applications"][0]["deployments"][0]["autoscaling_config"]["max_replica"] = 3
    config["http_options"]["prot"] = 1
    ServeDeploySchema.model_validate(config)  # Serve itself accepts it...
    assert sorted(unknown_keys(ServeDeploySchema, config)) == [  # ...the check does not
        "applications[0].deployments[0].autoscaling_config.max_replica",
        "http_options.prot",
    ]


def test_cluster_yaml_passes_rays_launcher_validation() -> None:
    config = load("cluster.yaml")
    schema_path = os.path.join(os.path.dirname(ray.autoscaler.__file__), "ray-schema.json")
    jsonschema.validate(config, json.loads(open(schema_path).read()))
    prepared = prepare_config(copy.deepcopy(config))
    validate_config(prepared)
    assert prepared["provider"]["type"] == "local"
    assert len(prepared["provider"]["worker_ips"]) == config["max_workers"]
    commands = " ".join(prepared["head_start_ray_commands"] + prepared["setup_commands"])
    assert "serve deploy ~/ppb/deploy/serve.yaml" in commands and "pip install" in commands


@pytest.mark.parametrize("source", ["deploy/serve.yaml", "deploy/rayservice.yaml"])
def test_serve_configs_pass_serves_schema_with_no_unknown_key(source: str) -> None:
    config = load(source)
    if source.endswith("rayservice.yaml"):
        assert config["apiVersion"] == "ray.io/v1" and config["kind"] == "RayService"
        cluster = config["spec"]["rayClusterConfig"]
        assert cluster["headGroupSpec"]["template"]["spec"]["containers"]
        assert cluster["workerGroupSpecs"][0]["maxReplicas"] >= cluster["workerGroupSpecs"][0]["minReplicas"]
        config = yaml.safe_load(config["spec"]["serveConfigV2"])
        assert config["applications"] == load("deploy/serve.yaml")["applications"]
    ServeDeploySchema.model_validate(config)
    assert unknown_keys(ServeDeploySchema, config) == []


def test_serve_yaml_names_the_deployments_the_code_builds() -> None:
    application = load("deploy/serve.yaml")["applications"][0]
    module, _, attribute = application["import_path"].partition(":")
    assert isinstance(getattr(__import__(module, fromlist=[attribute]), attribute), types.FunctionType)
    built = build_app(build_application(load_settings()), name=application["name"])
    in_code = {deployment.name for deployment in built.deployments}
    in_config = {deployment["name"] for deployment in application["deployments"]}
    assert in_config == in_code == {"Api", "Scorer"}
    scorer = next(d for d in application["deployments"] if d["name"] == "Scorer")
    assert scorer["autoscaling_config"]["max_replicas"] > scorer["autoscaling_config"]["min_replicas"]


@pytest.mark.parametrize("value, logged", [("0", False), ("1", True)])
def test_the_api_replicas_log_a_line_per_request_only_when_asked(
    monkeypatch: pytest.MonkeyPatch, value: str, logged: bool
) -> None:
    """PPB_SERVE_ACCESS_LOG: Serve's access log of the Api deployment; off, its Serve logger
    keeps warnings only (the per-request call returns before building a record)."""
    monkeypatch.setenv("PPB_SERVE_ACCESS_LOG", value)
    built = build_app(build_application(load_settings()), name="ppb")
    api = next(deployment for deployment in built.deployments if deployment.name == "Api")
    assert api.logging_config["enable_access_log"] is logged
    assert api.logging_config["log_level"] == ("INFO" if logged else "WARNING")
