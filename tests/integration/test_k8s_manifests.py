# SPDX-License-Identifier: MIT
"""k8s/: every manifest passes the Kubernetes OpenAPI schemas offline (and a
broken copy does not), agrees with what the agent reads, listens on and
mounts, the collector's pipelines are whole and match where sonde sends, the
dashboard's PromQL is valid and names only metrics sonde exports, and the
real agent runs with exactly the DaemonSet's capabilities, as root and as
another user."""

import copy
import json
import os
import re
import shutil
import stat
import subprocess
import tempfile
import urllib.parse

import yaml

from harness import ROOT, SONDE, check, free_port, protocol_counter_names, python_server

K8S = os.path.join(ROOT, "k8s")
VALIDATOR = os.path.join(ROOT, "tools", "k8s-validate")
BASE_FILES = ["namespace.yaml", "serviceaccount.yaml", "clusterrole.yaml",
              "clusterrolebinding.yaml", "configmap.yaml", "daemonset.yaml"]
# Environment variables the agent reads without listing them in `run --help`.
STANDARD_ENV = re.compile(r"^(KUBERNETES_\w+|OTEL_\w+)$")
# Settings the k8s-api work adds (issue 7); checked against --help once it has them.
K8S_ENV = {"SONDE_K8S", "SONDE_K8S_NODE_NAME", "SONDE_K8S_KUBECONFIG",
           "SONDE_K8S_SERVICE_ACCOUNT_DIR", "SONDE_K8S_MAX_PODS", "SONDE_K8S_METADATA_WAIT"}
SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"  # where the kubelet mounts the token


def skip(why):
    print(f"     SKIP {why}", flush=True)


def load(*parts):
    with open(os.path.join(K8S, *parts)) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def base_objects():
    return [d for name in BASE_FILES for d in load("base", name)]


def by_kind(objs, kind):
    found = [o for o in objs if o["kind"] == kind]
    check(len(found) == 1, f"expected one {kind}, found {len(found)}")
    return found[0]


def daemonset():
    return by_kind(base_objects(), "DaemonSet")


def container():
    return daemonset()["spec"]["template"]["spec"]["containers"][0]


def sonde_config():
    text = by_kind(base_objects(), "ConfigMap")["data"]["sonde.yaml"]
    return text, yaml.safe_load(text)


def collector_objects():
    """The plain collector as `kubectl apply -k k8s/collector` creates it."""
    kust = load("collector", "kustomization.yaml")[0]
    objs = [d for name in kust["resources"] for d in load("collector", name)]
    for gen in kust["configMapGenerator"]:
        data = {}
        for name in gen["files"]:
            with open(os.path.join(K8S, "collector", name)) as f:
                data[name] = f.read()
        objs.append({"apiVersion": "v1", "kind": "ConfigMap",
                     "metadata": {"name": gen["name"], "namespace": kust["namespace"]},
                     "data": data})
    return objs


def validate(objs):
    """{(kind, name): [errors]} from kubernetes-models' .validate()."""
    check(os.path.isdir(os.path.join(VALIDATOR, "node_modules", "kubernetes-models")),
          "kubernetes-models is not installed: bash tools/k8s-validate/install.sh")
    r = subprocess.run(["node", os.path.join(VALIDATOR, "validate.js")], input=json.dumps(objs),
                       capture_output=True, text=True, timeout=120)
    check(r.returncode == 0, f"validate.js: {r.stderr}")
    return [json.loads(line) for line in r.stdout.splitlines()]


def server_side_rules(obj):
    """Checks the API server makes beyond the schema that these manifests
    could trip: allowPrivilegeEscalation=false with privileged or SYS_ADMIN."""
    errors = []
    spec = obj.get("spec", {}).get("template", {}).get("spec", {})
    for c in spec.get("containers", []):
        sc = c.get("securityContext", {})
        adds = {a.upper().removeprefix("CAP_") for a in sc.get("capabilities", {}).get("add", [])}
        if sc.get("allowPrivilegeEscalation") is False and (sc.get("privileged") or
                                                             "SYS_ADMIN" in adds):
            errors.append(f"{c['name']}: allowPrivilegeEscalation false with privileged or "
                          "SYS_ADMIN is refused by the API server")
    return errors


def test_k8s_all_in_one_matches_base():
    """k8s/sonde.yaml is exactly what tests/k8s/render.py makes of k8s/base."""
    r = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "tests", "k8s", "render.py"),
                        "--check"], capture_output=True, text=True, timeout=30)
    check(r.returncode == 0, r.stderr)
    check(load("sonde.yaml") == base_objects(), "k8s/sonde.yaml and k8s/base parse differently")
    kust = load("base", "kustomization.yaml")[0]
    check(kust["resources"] == BASE_FILES, f"kustomization resources {kust['resources']}")


def test_k8s_manifests_pass_the_kubernetes_schemas():
    objs = load("sonde.yaml") + base_objects() + collector_objects()
    kinds = sorted({o["kind"] for o in objs})
    check(kinds == ["ClusterRole", "ClusterRoleBinding", "ConfigMap", "DaemonSet", "Deployment",
                    "Namespace", "Service", "ServiceAccount"], f"kinds {kinds}")
    for res in validate(objs):
        check(not res["errors"], f"{res['kind']} {res['name']}: {res['errors']}")
    for o in objs:
        check(not server_side_rules(o), f"{o['kind']}: {server_side_rules(o)}")


def test_k8s_validation_rejects_broken_copies():
    """The validator is not a rubber stamp: each breakage is reported."""
    ds = daemonset()
    cases = {}
    b = copy.deepcopy(ds)
    b["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "9464"
    cases["port as a string"] = (b, "containerPort must be integer")
    b = copy.deepcopy(ds)
    del b["spec"]["selector"]
    cases["no selector"] = (b, "must have required property selector")
    b = copy.deepcopy(ds)
    b["spec"]["template"]["spec"]["hostPid"] = True
    cases["misspelt field"] = (b, "/spec/template/spec/hostPid: unknown field")
    b = copy.deepcopy(ds)
    b["spec"]["template"]["spec"]["tolerations"] = [{"operator": "Exists", "effect": 3}]
    cases["toleration effect as a number"] = (b, "effect must be string")
    b = copy.deepcopy(by_kind(base_objects(), "ClusterRole"))
    b["rules"][0]["verbs"] = "get"
    cases["verbs not a list"] = (b, "verbs must be array")
    results = validate([c[0] for c in cases.values()])
    for (what, (_, want)), res in zip(cases.items(), results):
        check(any(want in e for e in res["errors"]), f"{what}: expected '{want}', got {res['errors']}")
    b = copy.deepcopy(ds)
    sc = b["spec"]["template"]["spec"]["containers"][0]["securityContext"]
    sc["allowPrivilegeEscalation"] = False
    check(server_side_rules(b), "allowPrivilegeEscalation=false with SYS_ADMIN not caught")


def sonde_help():
    r = subprocess.run([SONDE, "run", "--help"], capture_output=True, text=True, timeout=30)
    check(r.returncode == 0, f"sonde run --help: rc {r.returncode}")
    return r.stdout


def test_k8s_daemonset_env_is_what_the_agent_reads():
    help_text = sonde_help()
    known = set(re.findall(r"env (\w+),", help_text))
    has_k8s = "k8s." in help_text
    names = [e["name"] for e in container()["env"]]
    check("SONDE_K8S_NODE_NAME" in names, "the node name is not passed")
    node = next(e for e in container()["env"] if e["name"] == "SONDE_K8S_NODE_NAME")
    check(node["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName", f"{node}")
    for name in names:
        if name in known or STANDARD_ENV.match(name):
            continue
        if name in K8S_ENV and not has_k8s:
            skip(f"{name}: this sonde has no k8s.* settings yet (issue 7, on main)")
            continue
        check(False, f"DaemonSet sets {name}, which sonde does not read")
    if has_k8s:
        missing = K8S_ENV - known
        check(not missing, f"sonde run --help lacks {missing}")


def check_config(text):
    """`sonde run --check-config` on text, with the DaemonSet's environment."""
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
        f.write(text)
        f.flush()
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("OTEL_", "SONDE_"))}
        for e in container()["env"]:
            env[e["name"]] = e.get("value", "node-1")  # node-1: the downward API's
        return subprocess.run([SONDE, "run", "--check-config", "--config", f.name], env=env,
                              capture_output=True, text=True, timeout=30)


def test_k8s_configmap_passes_check_config():
    text, _ = sonde_config()
    r = check_config(text)
    if "--check-config" in r.stderr and "unknown" in r.stderr:
        skip("sonde run --check-config does not exist in this tree yet (on main)")
        return
    check(r.returncode == 0, f"--check-config rc {r.returncode}: {r.stderr}")
    for line in ("prometheus.port = 9464", "k8s.enabled = true", "k8s.node_name = node-1"):
        check(line in r.stdout, f"no '{line}' in {r.stdout}")
    bad = check_config(text.replace("export_interval:", "export_intreval:"))
    check(bad.returncode == 2 and "export_intreval" in bad.stderr,
          f"a misspelt key passed: rc {bad.returncode} {bad.stderr}")
    endpoint = next(e["value"] for e in container()["env"]
                    if e["name"] == "OTEL_EXPORTER_OTLP_ENDPOINT")
    check(f"# traces: {endpoint}/v1/traces" in r.stdout, r.stdout)
    # The node's stdout/stderr as OTLP logs, to the same collector.
    check(f"# logs: {endpoint}/v1/logs" in r.stdout and "logs.enabled = true" in r.stdout,
          r.stdout)


def test_k8s_ports_probes_and_annotations_agree():
    _, cfg = sonde_config()
    port = cfg["prometheus"]["port"]
    c = container()
    named = {p["name"]: p["containerPort"] for p in c["ports"]}
    check(list(named.values()) == [port], f"containerPorts {named}, prometheus.port {port}")
    ann = daemonset()["spec"]["template"]["metadata"]["annotations"]
    check(ann["prometheus.io/scrape"] == "true" and ann["prometheus.io/port"] == str(port),
          f"annotations {ann}")
    with open(os.path.join(ROOT, "agent", "export", "prom_server.c")) as f:
        served = set(re.findall(r'strcmp\(path, "(/[a-z]+)"\)', f.read()))
    check(ann["prometheus.io/path"] in served, f"{ann['prometheus.io/path']} not in {served}")
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        get = c[probe]["httpGet"]
        check(named.get(get["port"], get["port"]) == port, f"{probe} port {get['port']}")
        check(get["path"] == "/healthz" and "/healthz" in served, f"{probe} path {get['path']}")


def agent_string_literals():
    lits = set()
    for d, _, files in os.walk(os.path.join(ROOT, "agent")):
        for name in files:
            if name.endswith(".c"):
                with open(os.path.join(d, name)) as f:
                    lits.update(re.findall(r'"(/[^"%]*)', f.read()))
    return lits


def test_k8s_host_mounts_are_the_agents_paths():
    spec = daemonset()["spec"]["template"]["spec"]
    check(spec["hostPID"] is True, "hostPID")
    mounts = {m["name"]: m for m in container()["volumeMounts"]}
    lits = agent_string_literals()
    for v in spec["volumes"]:
        if "hostPath" not in v:
            continue
        path = v["hostPath"]["path"]
        m = mounts[v["name"]]
        check(m["mountPath"] == path, f"{v['name']}: host {path} mounted at {m['mountPath']}")
        check(m.get("readOnly") is True, f"{path} is writable")
        check(any(lit == path or lit.startswith(path + "/") for lit in lits),
              f"hostPath {path}: the agent never uses it")
    paths = {v["hostPath"]["path"] for v in spec["volumes"] if "hostPath" in v}
    # mounts.c: where tracefs and bpffs are looked for (and mounted when missing)
    with open(os.path.join(ROOT, "agent", "host", "mounts.c")) as f:
        mounts_c = f.read()
    for want in ("/sys/kernel/tracing", "/sys/kernel/debug", "/sys/fs/bpf"):
        check(want in mounts_c and want in paths, f"{want}: mounts.c or hostPath missing")
    check("/sys/fs/cgroup" in paths, "no cgroupfs")


def test_k8s_rbac_is_exactly_what_the_agent_calls():
    objs = base_objects()
    rules = {(g, r): sorted(rule["verbs"]) for rule in by_kind(objs, "ClusterRole")["rules"]
             for g in rule["apiGroups"] for r in rule["resources"]}
    # pods: list+watch with fieldSelector=spec.nodeName, get; replicasets → Deployment;
    # jobs → CronJob
    check(rules == {("", "pods"): ["get", "list", "watch"], ("apps", "replicasets"): ["get"],
                    ("batch", "jobs"): ["get"]}, f"rules {rules}")
    crb = by_kind(objs, "ClusterRoleBinding")
    sa = by_kind(objs, "ServiceAccount")
    check(crb["roleRef"]["name"] == by_kind(objs, "ClusterRole")["metadata"]["name"], "roleRef")
    check(crb["subjects"] == [{"kind": "ServiceAccount", "name": sa["metadata"]["name"],
                               "namespace": sa["metadata"]["namespace"]}], f"{crb['subjects']}")
    pod = daemonset()["spec"]["template"]["spec"]
    check(pod["serviceAccountName"] == sa["metadata"]["name"], "serviceAccountName")
    check(sa.get("automountServiceAccountToken", True) and
          pod.get("automountServiceAccountToken", True), "token not mounted")
    # The token lands at SA_DIR; the agent's default must be that directory.
    help_text = sonde_help()
    if "k8s.service_account_dir" not in help_text:
        skip("k8s.service_account_dir is not in this sonde yet (on main)")
    else:
        check(f"default {SA_DIR}" in help_text, "k8s.service_account_dir default differs")
    check(all(e["name"] != "SONDE_K8S_SERVICE_ACCOUNT_DIR" for e in container()["env"]),
          "the DaemonSet overrides the service account directory")


def collector_config():
    plain = load("collector", "otel-collector-config.yaml")[0]
    cr = load("collector", "opentelemetrycollector.yaml")[0]
    return plain, cr


def test_k8s_collector_pipelines_and_ports():
    plain, cr = collector_config()
    check(cr["apiVersion"] == "opentelemetry.io/v1beta1" and cr["kind"] == "OpenTelemetryCollector"
          and cr["spec"]["mode"] == "deployment", "operator resource")
    check(cr["spec"]["config"] == plain, "the operator resource and the plain config differ")
    pipes = plain["service"]["pipelines"]
    check(sorted(pipes) == ["logs", "metrics", "traces"], f"pipelines {sorted(pipes)}")
    for name, p in pipes.items():
        for part in ("receivers", "processors", "exporters"):
            for comp in p[part]:
                check(comp in plain[part], f"{name}: {part[:-1]} {comp} is not defined")
        check(p["processors"][0] == "memory_limiter", f"{name}: memory_limiter is not first")
        check("batch" in p["processors"], f"{name}: no batch")
    check(pipes["metrics"]["exporters"] == ["prometheus"], "metrics exporter")
    check(plain["exporters"]["prometheus"]["resource_to_telemetry_conversion"]["enabled"] is True,
          "resource attributes would not become labels")
    check(plain["exporters"]["otlp/tempo"]["endpoint"] == "tempo:4317", "tempo")
    check(plain["exporters"]["otlphttp/loki"]["endpoint"] == "http://loki:3100/otlp", "loki")
    protos = plain["receivers"]["otlp"]["protocols"]
    check(protos["grpc"]["endpoint"] == "0.0.0.0:4317" and
          protos["http"]["endpoint"] == "0.0.0.0:4318", f"receivers {protos}")
    # Where the DaemonSet sends: the Service both variants create, on the
    # receiver port of the protocol sonde uses.
    env = {e["name"]: e.get("value") for e in container()["env"]}
    url = urllib.parse.urlsplit(env["OTEL_EXPORTER_OTLP_ENDPOINT"])
    proto = env.get("OTEL_EXPORTER_OTLP_PROTOCOL") or sonde_config()[1].get(
        "exporter", {}).get("otlp", {}).get("protocol", "http/protobuf")
    want_port = 4317 if proto == "grpc" else 4318
    check(url.port == want_port, f"sonde sends {proto} to port {url.port}")
    svc = by_kind(collector_objects(), "Service")
    host = f"{svc['metadata']['name']}.{svc['metadata']['namespace']}.svc"
    check(url.hostname == host, f"sonde sends to {url.hostname}, the Service is {host}")
    check(f"{cr['metadata']['name']}-collector.{cr['metadata']['namespace']}.svc" == host,
          "the operator's Service would have another name")
    check(want_port in [p["port"] for p in svc["spec"]["ports"]], "Service lacks the port")
    dep = by_kind(collector_objects(), "Deployment")
    cports = [p["containerPort"] for p in dep["spec"]["template"]["spec"]["containers"][0]["ports"]]
    check({4317, 4318, 8889} <= set(cports), f"collector ports {cports}")


def exported_metrics():
    """Prometheus names of what sonde exports, from the code: the OTLP names
    and units through the OpenTelemetry naming rules, which must agree with
    prom_text.c's own /metrics; the health counters get _total."""
    with open(os.path.join(ROOT, "agent", "export", "otlp_metrics.c")) as f:
        otlp = f.read()
    with open(os.path.join(ROOT, "agent", "export", "prom_text.c")) as f:
        prom = f.read()
    with open(os.path.join(ROOT, "agent", "pipeline", "pipeline.c")) as f:
        pipeline = f.read()
    units = {"s": "seconds", "ms": "milliseconds", "By": "bytes"}
    families = set()
    for names, unit in re.findall(r'\{ \{ ((?:"|NULL)[^}]+) \},\s*"[^"]*",\s*"([^"]+)" \}', otlp):
        for n in re.findall(r'"([a-z.]+)"', names):
            families.add(n.replace(".", "_") + "_" + units[unit])
    check(len(families) == 9, f"OTLP families {families}")
    check(families == set(re.findall(r'\{ "([a-z_]+)", "[^"]*",', prom)),
          "OTLP and /metrics names differ")
    names = {f + s for f in families for s in ("_bucket", "_sum", "_count")}
    for n, gauge in re.findall(r'\{ "(sonde\.[a-z0-9.]+)",.*?"\{?\w*\}?", (true|false)', pipeline,
                               re.S):
        names.add(n.replace(".", "_") + ("" if gauge == "true" else "_total"))
    # Each protocol's own counters (struct protocol_counter in agent/protocols/).
    names |= set(protocol_counter_names().values())
    check("sonde_events_lost_total" in names, f"health metrics {names}")
    check("sonde_http1_responses_unmatched_total" in names, f"protocol counters {names}")
    return names


def exported_labels():
    with open(os.path.join(ROOT, "agent", "export", "otlp_metrics.c")) as f:
        attrs = set(re.findall(r'otlp_kv_\w+\(a, "([a-z._]+)"', f.read()))
    with open(os.path.join(ROOT, "agent", "host", "resource.c")) as f:
        attrs |= set(re.findall(r'add\(r, "([a-z._]+)"', f.read()))
    # Kubernetes resource attributes (semantic conventions) the k8s-api work adds.
    attrs |= {"k8s.namespace.name", "k8s.pod.name", "k8s.pod.uid", "k8s.node.name",
              "k8s.container.name", "k8s.deployment.name", "k8s.replicaset.name",
              "k8s.statefulset.name", "k8s.daemonset.name", "k8s.job.name", "k8s.cronjob.name"}
    return {a.replace(".", "_") for a in attrs} | {"le", "job", "instance"}


def dashboard_queries():
    with open(os.path.join(K8S, "grafana", "sonde-red.json")) as f:
        dash = json.load(f)
    subst = {"$namespace": ".+", "$service": ".+", "$route": ".*", "$__rate_interval": "1m"}

    def fill(q):
        for k, v in subst.items():
            q = q.replace(k, v)
        check("$" not in q, f"unsubstituted variable in {q}")
        return q
    exprs = [fill(t["expr"]) for p in dash["panels"] for t in p.get("targets", [])]
    for v in dash["templating"]["list"]:
        if v["type"] == "query":
            m = re.fullmatch(r"label_values\((.*), (\w+)\)", v["query"]["query"], re.S)
            check(m, f"variable {v['name']}: {v['query']['query']}")
            exprs.append(fill(m.group(1)))
    names = sorted({v["name"] for v in dash["templating"]["list"]})
    check(names == ["datasource", "namespace", "route", "service"], f"variables {names}")
    return exprs


def test_k8s_dashboard_promql_is_valid_and_names_sonde_metrics():
    exprs = dashboard_queries()
    check(len(exprs) >= 20, f"{len(exprs)} queries")
    rules = {"groups": [{"name": "sonde-red-dashboard", "rules": [
        {"record": f"sonde:dashboard:{i}", "expr": e} for i, e in enumerate(exprs)]}]}
    with tempfile.NamedTemporaryFile("w", suffix=".yml") as f:
        yaml.safe_dump(rules, f)
        f.flush()
        r = subprocess.run(["promtool", "check", "rules", f.name], capture_output=True, text=True,
                           timeout=60)
    check(r.returncode == 0, f"promtool: {r.stdout}{r.stderr}")
    metrics, labels = exported_metrics(), exported_labels()
    used = set()
    for e in exprs:
        used |= set(re.findall(r"\b([a-z_:][a-z0-9_:]*)\s*\{", e))
        used |= set(re.findall(r'__name__=~"([^"]+)"', e)[0].split("|")) if "__name__" in e else set()
        for lab in re.findall(r"(\w+)\s*(?:=~|!~|!=|=)\s*\"", e):
            check(lab in labels or lab == "__name__", f"label {lab} is not one sonde exports")
        for group in re.findall(r"by \(([^)]*)\)", e):
            for lab in group.split(","):
                check(lab.strip() in labels, f"label {lab.strip()} is not one sonde exports")
    check(used - metrics == set(), f"not exported by sonde: {sorted(used - metrics)}")
    for fam in ("http_server_request_duration_seconds", "http_client_request_duration_seconds",
                "rpc_server_duration_milliseconds", "rpc_client_duration_milliseconds"):
        check({fam + "_count", fam + "_bucket"} <= used, f"dashboard lacks {fam}")


def test_k8s_exemplars_and_logs_link_the_signals():
    """Metrics → traces → logs: the collector exposes OpenMetrics (exemplars
    pass), the latency panels ask for exemplars, the Prometheus data source
    links the label sonde's exemplars carry to Tempo, Tempo's trace to logs
    searches Loki by trace id, Loki's lines link back; logs go to Loki's OTLP
    endpoint and traces to Tempo."""
    plain, cr = collector_config()
    for conf in (plain, cr["spec"]["config"]):
        check(conf["exporters"]["prometheus"].get("enable_open_metrics") is True,
              "the collector's prometheus exporter would drop exemplars")
        pipes = conf["service"]["pipelines"]
        check(pipes["logs"]["exporters"] == ["otlphttp/loki"] and
              pipes["traces"]["exporters"] == ["otlp/tempo"], f"pipelines {pipes}")
    with open(os.path.join(ROOT, "agent", "export", "prom_text.c")) as f:
        label = re.search(r'# \{(\w+)=', f.read()).group(1)
    with open(os.path.join(K8S, "grafana", "sonde-red.json")) as f:
        dash = json.load(f)
    latency = [p for p in dash["panels"] if "duration p50" in p.get("title", "")]
    check(len(latency) == 4, f"{len(latency)} latency panels")
    for p in latency:
        check(all(t.get("exemplar") is True for t in p["targets"]),
              f"{p['title']}: exemplars not shown")
    with open(os.path.join(K8S, "grafana", "datasources.yaml")) as f:
        ds = {d["type"]: d for d in yaml.safe_load(f)["datasources"]}
    check(sorted(ds) == ["loki", "prometheus", "tempo"], f"data sources {sorted(ds)}")
    dest = ds["prometheus"]["jsonData"]["exemplarTraceIdDestinations"]
    check(dest == [{"name": label, "datasourceUid": ds["tempo"]["uid"]}],
          f"exemplar link {dest}: sonde's exemplars carry {label}")
    t2l = ds["tempo"]["jsonData"]["tracesToLogsV2"]
    check(t2l["datasourceUid"] == ds["loki"]["uid"] and t2l["filterByTraceID"] is True and
          "trace_id=" in t2l["query"], f"trace to logs {t2l}")
    back = ds["loki"]["jsonData"]["derivedFields"]
    check(back[0]["matcherRegex"] == "trace_id" and back[0]["datasourceUid"] == ds["tempo"]["uid"],
          f"logs to trace {back}")


# tracefs and bpffs read-only, as the DaemonSet's hostPath mounts give them.
READ_ONLY_MOUNTS = ("set -e; for m in /sys/kernel/tracing /sys/fs/bpf; do "
                    "mountpoint -q $m && mount -o remount,bind,ro $m; done; ")


def in_mount_namespace(script, args, timeout):
    return subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c",
                           READ_ONLY_MOUNTS + script, "sh", SONDE, *args],
                          capture_output=True, text=True, timeout=timeout)


def run_with_caps(caps, args, timeout=60):
    """The agent as root with the bounding (hence effective) set reduced to
    caps, in a mount namespace where tracefs and bpffs are read-only."""
    return in_mount_namespace('exec setpriv --bounding-set=-all,' +
                              ",".join("+" + c.lower() for c in caps) +
                              ' --inh-caps=-all -- "$@"', args, timeout)


def run_as_user_with_caps(caps, args, timeout=60):
    """The agent as user nobody with caps as its ambient (hence effective) set
    and nothing else: the DaemonSet's securityContext with a runAsUser other
    than 0. The same mount namespace as run_with_caps."""
    c = ",".join(["-all"] + ["+" + c.lower() for c in caps])
    return in_mount_namespace("exec setpriv --reuid=nobody --regid=nogroup --clear-groups "
                              f"--inh-caps={c} --ambient-caps={c} --bounding-set={c} "
                              '-- "$@"', args, timeout)


def bounding_caps():
    """The capabilities this test may hand on (its own bounding set), as the
    DaemonSet spells them (SYS_ADMIN)."""
    with open("/proc/self/status") as f:
        mask = re.search(r"^CapBnd:\s*([0-9a-f]+)", f.read(), re.M).group(1)
    r = subprocess.run(["capsh", f"--decode={mask}"], capture_output=True, text=True, check=True)
    return {n.upper().removeprefix("CAP_") for n in r.stdout.strip().split("=", 1)[1].split(",")}


def test_k8s_capabilities_are_enough_and_needed():
    caps = container()["securityContext"]["capabilities"]
    check(caps["drop"] == ["ALL"], "capabilities not dropped first")
    add = caps["add"]
    check(container()["securityContext"].get("privileged") is False, "privileged by default")
    directory = tempfile.mkdtemp(prefix="sonde-k8s-")
    with open(os.path.join(directory, "hello"), "w") as f:
        f.write("hello\n")
    port = free_port()
    srv = python_server(port, directory)
    url = f"http://127.0.0.1:{port}/hello"
    try:
        args = ["trace", "--output", "json", "--no-summary", "--", "curl", "-s", url]
        r = run_with_caps(add, args)
        spans = [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]
        check(r.returncode == 0 and any(s.get("url.path") == "/hello" for s in spans),
              f"with {add}: rc {r.returncode}, {r.stdout}{r.stderr}")
        check("warning" not in r.stderr, f"with {add}: {r.stderr}")
        # BPF (or PERFMON) missing: one clear line, exit 1, no crash
        for drop in ("BPF", "PERFMON"):
            less = [c for c in add if c not in (drop, "SYS_ADMIN")]
            r = run_with_caps(less, args)
            err = r.stderr.strip().splitlines()
            check(r.returncode == 1 and len(err) == 1 and f"without CAP_{drop}" in err[0],
                  f"without {drop}: rc {r.returncode}, {r.stderr!r}")
        # SYS_ADMIN missing: plaintext still traced, the uprobes (HTTPS) are not
        less = [c for c in add if c != "SYS_ADMIN"]
        r = run_with_caps(less, args)
        check(r.returncode == 0 and '"/hello"' in r.stdout, f"without SYS_ADMIN: {r.stderr}")
        check("cannot attach a uprobe" in r.stderr or
              not os.path.exists("/sys/bus/event_source/devices/uprobe/type"),
              f"uprobes attached without SYS_ADMIN on this kernel: {r.stderr}")
    finally:
        srv.stop()


def test_k8s_capabilities_suffice_for_another_user():
    """runAsUser other than 0 with the DaemonSet's capabilities: tracefs (mode
    0700, root's) is read through CAP_DAC_READ_SEARCH, and a request is traced.
    access() checked the real uid without capabilities: sonde said "tracefs is
    not mounted and could not be mounted". Without DAC_READ_SEARCH the reason
    is the real one."""
    add = container()["securityContext"]["capabilities"]["add"]
    have = bounding_caps()
    caps = [c for c in add if c in have]
    if not {"BPF", "PERFMON", "DAC_READ_SEARCH"} <= set(caps):
        return skip(f"this test's own capabilities lack some of {add}")
    if caps != add:
        print(f"     (without {sorted(set(add) - set(caps))}: not in this test's bounding set)",
              flush=True)
    mode = stat.S_IMODE(os.stat("/sys/kernel/tracing").st_mode)
    if mode & 0o005:
        return skip(f"tracefs is mode {mode:o} here: any user may read it")
    r = run_as_user_with_caps(caps, ["probe"])
    check(r.returncode == 0 and "sonde can run on this kernel" in r.stdout,
          f"as nobody with {caps}: rc {r.returncode}, {r.stdout}{r.stderr}")
    directory = tempfile.mkdtemp(prefix="sonde-k8s-")
    os.chmod(directory, 0o755)
    with open(os.path.join(directory, "hello"), "w") as f:
        f.write("hello\n")
    port = free_port()
    srv = python_server(port, directory)
    try:
        r = run_as_user_with_caps(caps, ["trace", "--output", "json", "--no-summary", "--",
                                         "curl", "-s", f"http://127.0.0.1:{port}/hello"])
        spans = [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]
        check(r.returncode == 0 and any(s.get("url.path") == "/hello" for s in spans),
              f"trace as nobody with {caps}: rc {r.returncode}, {r.stdout}{r.stderr}")
    finally:
        srv.stop()
        shutil.rmtree(directory, ignore_errors=True)
    less = [c for c in caps if c != "DAC_READ_SEARCH"]
    r = run_as_user_with_caps(less, ["probe"])
    check(r.returncode != 0 and "cannot read tracefs at /sys/kernel/tracing: Permission denied"
          in r.stdout, f"as nobody with {less}: rc {r.returncode}, {r.stdout}{r.stderr}")
