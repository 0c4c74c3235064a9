"""What a user of az and kubectl expects of `az-imds` (issue 18): `aks nodepool upgrade` asks first, the
Kubernetes options wherever the probe or the scan runs, $KUBECONFIG and --context as kubectl reads them,
`[defaults] group` and `config set|get|unset`, a parse error with the command's own usage and examples, and
the progress of long waits."""
import json
import os
import pty
import subprocess
import sys

from tests.support.cli import read_terminal, run_on_a_terminal
from tests.support.constants import FEATURE, RG
from tests.support.kube import arm_kubeconfig

POOL_UPGRADE = ("aks", "nodepool", "upgrade", "-g", RG, "--cluster-name", "c1", "-n", "userpool",
                "--node-image-only")
ENABLE = ("aks", "update", "-g", RG, "-n", "c1", "--enable-imds-restriction", "--yes")
VERIFY = ("aks", "imds-restriction", "verify", "-g", RG, "-n", "c1")
MIRROR = "myregistry.azurecr.io/azurelinux/base/core:3.0"


def _on_a_terminal(cli_env, args, answer):
    """Run with stdin on a pseudo-terminal and `answer` typed at the prompt: (code, all it printed)."""
    code, out, err = run_on_a_terminal(cli_env, args, answer)
    return code, out + err


def _progress_on_a_terminal(cli_env, args):
    """Run with stderr on a pseudo-terminal (where progress is drawn): (code, what the terminal showed)."""
    primary, secondary = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "imds_ext", *args], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=secondary, env=cli_env)
    os.close(secondary)
    proc.communicate(timeout=120)
    return proc.returncode, read_terminal(primary)


def _kube_requests(admin):
    return [e for e in admin.requests() if e["path"].startswith("/kubernetes/")]


# -- aks nodepool upgrade asks first ----------------------------------------------------------------------------
def test_nodepool_upgrade_without_a_terminal_needs_yes_and_changes_nothing(az_imds, admin, seed_cluster):
    seed_cluster()
    r = az_imds(*POOL_UPGRADE)
    assert r.code == 1
    assert "needs confirmation, but there is no terminal" in r.err and "Pass --yes" in r.err
    assert admin.requests("POST", "/upgradeNodeImageVersion") == []
    assert az_imds(*POOL_UPGRADE, "-y").code == 0
    assert len(admin.requests("POST", "/upgradeNodeImageVersion")) == 1


def test_nodepool_upgrade_prompt_names_the_pool_its_nodes_and_the_drain(cli_env, admin, seed_cluster):
    seed_cluster()
    code, text = _on_a_terminal(cli_env, POOL_UPGRADE, "n")
    assert code == 0
    assert "pool 'userpool' of cluster 'c1'" in text and "its 2 node(s) are reimaged" in text
    assert "workloads drained" in text and "Cancelled: no change was made." in text
    assert admin.requests("POST", "/upgradeNodeImageVersion") == []
    code, text = _on_a_terminal(cli_env, POOL_UPGRADE, "y")
    assert code == 0, text
    assert len(admin.requests("POST", "/upgradeNodeImageVersion")) == 1


# -- the Kubernetes options of --verify and --check-workloads ---------------------------------------------------
def _mirror_only(admin):
    """A cluster that pulls from its own registry only (mcr.microsoft.com is not reachable from it)."""
    admin.seed(kubernetes=[{"resourceGroup": RG, "cluster": "c1",
                            "facts": {"registries": ["myregistry.azurecr.io"],
                                      "images": {MIRROR: {"commands": ["curl", "sh"]}}}}])


def test_update_verify_probes_with_the_probe_image_given(az_imds, admin, seed_cluster):
    seed_cluster()
    _mirror_only(admin)
    r = az_imds(*ENABLE, "--verify", "--probe-image", MIRROR, "--sample", "1")
    assert r.code == 0, r.err
    assert "Verified: all 2 Linux node(s) of cluster 'c1' are enforced" in r.err  # one node per pool
    # The default image is not reachable from this cluster: only the mirror's probes could answer.
    assert "image not pulled" in az_imds(*VERIFY).err


def test_upgrade_verify_takes_the_probe_image_and_the_admin_credentials(az_imds, admin, seed_cluster):
    seed_cluster(restricted=True, nodes={"nodepool1": {"podLinkLocalAccess": "IMDS"},
                                         "userpool": {"podLinkLocalAccess": "IMDS"}})
    _mirror_only(admin)
    r = az_imds("aks", "upgrade", "-g", RG, "-n", "c1", "--node-image-only", "--yes", "--verify", "--admin",
                "--probe-image", MIRROR)
    assert r.code == 0, r.err
    assert "Verified: all 5 Linux node(s) of cluster 'c1' are enforced" in r.err
    assert admin.requests("POST", "/listClusterAdminCredential") and \
        not admin.requests("POST", "/listClusterUserCredential")


def test_check_workloads_scans_through_the_kubeconfig_given(az_imds, admin, emulator, seed_cluster, tmp_path):
    seed_cluster()
    seed_cluster(name="c2")
    other = tmp_path / "c2.yaml"
    other.write_text(json.dumps(arm_kubeconfig(emulator, RG, "c2")))
    admin.clear_requests()
    r = az_imds(*ENABLE, "--check-workloads", "--kubeconfig", str(other))
    assert r.code == 1
    assert "is not the API server of cluster 'c1'" in r.err and "Nothing was changed" in r.err
    assert admin.requests("PUT", "/managedClusters/") == [] and _kube_requests(admin) == []


def test_kubernetes_options_without_verify_or_check_workloads_are_usage_errors(az_imds, admin):
    for args, message in (((*ENABLE, "--probe-image", MIRROR), "--probe-image goes with --verify"),
                          ((*ENABLE, "--check-workloads", "--sample", "1"), "--sample goes with --verify"),
                          ((*ENABLE, "--skip-workload-check", "--context", "c1"),
                           "--context goes with --verify or the workload scan"),
                          (("aks", "upgrade", "-g", RG, "-n", "c1", "--node-image-only", "--admin"),
                           "--admin goes with --verify"),
                          ((*ENABLE, "--verify", "--admin", "--kubeconfig", "k"), "cannot be combined")):
        r = az_imds(*args)
        assert r.code == 2 and message in r.err, (args, r.err)
    assert admin.requests(contains="/managedClusters") == []


# -- $KUBECONFIG and --context, as kubectl reads them ------------------------------------------------------------
def _write(path, config):
    path.write_text(json.dumps(config))
    return str(path)


def test_context_alone_is_picked_from_the_kubeconfig_list(az_imds, cli_env, admin, emulator, seed_cluster, tmp_path):
    seed_cluster(restricted=True)
    own = arm_kubeconfig(emulator, RG, "c1")
    context = own["contexts"][0]["name"]
    other = dict(own, **{"current-context": "elsewhere",
                         "contexts": [{"name": "elsewhere", "context": own["contexts"][0]["context"]}]})
    paths = [str(tmp_path / "missing"), _write(tmp_path / "a", other), _write(tmp_path / "b", own)]
    env = dict(cli_env, KUBECONFIG=os.pathsep.join(paths))
    r = az_imds(*VERIFY, "--context", context, "-o", "json", env=env)
    assert r.code == 0, r.err
    assert r.json["ok"] and _kube_requests(admin)
    r = az_imds(*VERIFY, "--context", "nope", env=env)
    assert r.code == 1
    assert "--context 'nope' is not a context of the kubeconfig" in r.err and "elsewhere" in r.err


def test_the_first_kubeconfig_with_the_context_wins_and_is_still_checked(az_imds, cli_env, admin, emulator,
                                                                        seed_cluster, tmp_path):
    seed_cluster(restricted=True)
    seed_cluster(name="c2", restricted=True)
    theirs, own = arm_kubeconfig(emulator, RG, "c2"), arm_kubeconfig(emulator, RG, "c1")
    context = own["contexts"][0]["name"]
    theirs["contexts"][0]["name"] = context  # the same context name, pointing at another cluster
    first, second = _write(tmp_path / "first", theirs), _write(tmp_path / "second", own)
    admin.clear_requests()
    r = az_imds(*VERIFY, "--context", context, env=dict(cli_env, KUBECONFIG=os.pathsep.join([first, second])))
    assert r.code == 1
    assert "is not the API server of cluster 'c1'" in r.err and "Nothing was sent to it" in r.err
    assert _kube_requests(admin) == []
    r = az_imds(*VERIFY, "--context", context, env=dict(cli_env, KUBECONFIG=os.pathsep.join([second, first])))
    assert r.code == 0, r.err


def test_context_alone_reads_the_home_kubeconfig_without_kubeconfig_set(az_imds, cli_env, admin, emulator,
                                                                        seed_cluster, tmp_path):
    seed_cluster(restricted=True)
    own = arm_kubeconfig(emulator, RG, "c1")
    (tmp_path / "home" / ".kube").mkdir(parents=True)
    _write(tmp_path / "home" / ".kube" / "config", own)
    env = {k: v for k, v in cli_env.items() if k != "KUBECONFIG"}
    env["HOME"] = str(tmp_path / "home")
    r = az_imds("aks", "imds-restriction", "scan", "-g", RG, "-n", "c1", "--context", own["contexts"][0]["name"],
                env=env)
    assert r.code == 0, r.err
    assert not admin.requests("POST", "/listClusterUserCredential") or _kube_requests(admin)


# -- [defaults] group and config set|get|unset ---------------------------------------------------------------------
def test_the_configured_default_group_lets_g_be_left_out(az_imds, cli_env, admin, seed_cluster):
    seed_cluster()
    assert az_imds("config", "set", "defaults.group=" + RG).code == 0
    assert az_imds("config", "get", "defaults.group", "--query", "value", "-o", "tsv").out.strip() == RG
    assert az_imds("aks", "show", "-n", "c1", "--query", "name", "-o", "tsv").out.strip() == "c1"
    r = az_imds("aks", "imds-restriction", "show", "-n", "c1", "-o", "json")
    assert r.code == 0, r.err
    assert az_imds("aks", "show", "-g", "other", "-n", "c1").code == 3  # -g given wins
    assert az_imds("config", "unset", "defaults.group").code == 0
    r = az_imds("aks", "show", "-n", "c1")
    assert r.code == 2 and "the following arguments are required: --resource-group/-g" in r.err
    env = dict(cli_env, AZIMDS_DEFAULTS_GROUP=RG)  # as az's AZURE_DEFAULTS_GROUP
    assert az_imds("aks", "show", "-n", "c1", "--query", "name", "-o", "tsv", env=env).out.strip() == "c1"


def test_config_commands_as_az_config(az_imds, cli_env):
    assert az_imds("config", "set", "core.output=table", "defaults.group=g1").code == 0
    everything = az_imds("config", "get", "-o", "json").json
    assert {(s, i["name"], i["value"]) for s, items in everything.items() for i in items
            if i["source"].endswith("config")} == {("core", "output", "table"), ("defaults", "group", "g1")}
    assert az_imds("config", "get", "core", "--query", "[?name=='output'].value", "-o", "json").json == ["table"]
    r = az_imds("config", "get", "core.nothing")
    assert r.code == 1 and "Configuration 'core.nothing' is not set." in r.err
    assert az_imds("config", "unset", "core.output").code == 0
    assert "core.output" not in json.dumps(az_imds("config", "get", "-o", "json").json)
    for args, message in ((("set", "defaults.group"), "has no value"), (("set", "nodot=1"), "is not a configuration"),
                          (("get", "a.b c"), "is not a configuration")):
        r = az_imds("config", *args)
        assert r.code == 2 and message in r.err, r.err
    assert az_imds("config", "set", "--help").out.count("defaults.group") >= 1


# -- parse errors, as az prints them -----------------------------------------------------------------------------
def test_an_unknown_option_prints_the_commands_usage_and_examples(az_imds):
    r = az_imds("aks", "show", "-g", RG, "-n", "c1", "--bogus")
    assert r.code == 2
    assert "usage: az-imds aks show" in r.err and "{aks,feature" not in r.err  # not the root's usage
    assert "az-imds aks show: error: unrecognized arguments: --bogus" in r.err
    assert "Examples:" in r.err and "az-imds aks show -g MyResourceGroup -n MyManagedCluster" in r.err
    assert "Run 'az-imds aks show --help'" in r.err


def test_a_missing_argument_prints_the_commands_usage_and_examples(az_imds):
    r = az_imds("aks", "nodepool", "upgrade", "-g", RG, "--cluster-name", "c1", "--node-image-only")
    assert r.code == 2
    assert "usage: az-imds aks nodepool upgrade" in r.err
    assert "the following arguments are required: --name/-n" in r.err
    assert "az-imds aks nodepool upgrade -g MyResourceGroup --cluster-name MyManagedCluster -n nodepool1" in r.err


def test_a_usage_error_names_the_cluster_it_knows(az_imds):
    r = az_imds("aks", "update", "-g", RG, "-n", "c1", "--disable-imds-restriction", "--enable-oidc-issuer")
    assert r.code == 2
    assert f"'az aks update -g {RG} -n c1 --enable-oidc-issuer'" in r.err and "<group>" not in r.err


# -- progress of long waits ------------------------------------------------------------------------------------------
def test_a_multi_pool_reimage_says_which_pool_is_done_with_its_nodes(cli_env, admin, seed_cluster):
    seed_cluster()
    admin.config(lro_delay=1)
    code, text = _progress_on_a_terminal(cli_env, ENABLE)
    assert code == 0, text
    assert "pool nodepool1 (3 nodes) done (" in text and "pool userpool (2 nodes) done (" in text
    assert "Upgrading the node image of 2 pool(s): nodepool1, userpool: done" in text


def test_feature_register_wait_shows_its_wait(cli_env, az_imds, admin):
    admin.config(registration_delay=2)
    args = ("feature", "register", "--namespace", "Microsoft.ContainerService", "--name", "IMDSRestrictionPreview",
            "--wait", "-o", "none")
    code, text = _progress_on_a_terminal(cli_env, args)
    assert code == 0, text
    assert f"Waiting for feature '{FEATURE}' to be Registered: done" in text
    r = az_imds("feature", "unregister", "--namespace", "Microsoft.ContainerService", "--name",
                "IMDSRestrictionPreview", "--wait", "--verbose", "-o", "none")
    assert r.code == 0, r.err
    assert f"Waiting for feature '{FEATURE}' to be Unregistered ..." in r.err  # a log line without a terminal
