"""The README's steps that build the wheel and add the extension to az, run as they are written, so that the README
stays true: in a copy of the repository's files (what a fresh clone has), with a fresh virtual environment and a
fresh az extension folder."""
import json
import re
import shutil
import subprocess

import pytest

from tests.az.azcli import REPO

pytestmark = pytest.mark.az

MARKER = "<!-- tests/az/test_az_readme.py runs these lines as they are"


def readme_steps() -> list:
    """The commands of the sh block under MARKER in README.md, one per line, comments dropped."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert MARKER in text, "the README lost its tested extension steps"
    block = re.search(r"```sh\n(.*?)```", text[text.index(MARKER):], re.S).group(1)
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]


def fresh_clone(into):
    """The files git tracks or would track (not ignored), as they are in the working tree: a clone of what is
    about to be committed."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, check=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = REPO / name
        if source.is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / name)
    return into


def test_the_readme_steps_build_the_wheel_and_add_the_extension_to_az(az_cli, fresh_az, tmp_path):
    steps = readme_steps()
    assert any(s.startswith("az extension add") for s in steps) and any("build --wheel" in s for s in steps)
    clone = fresh_clone(tmp_path / "imds-ext")
    home = fresh_az("az-readme")
    # `az` is the az under test (its own Python, a fresh extension folder), wherever the README says `az`.
    script = "\n".join([f'az() {{ "{az_cli}" "$@"; }}', *steps])
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=clone, capture_output=True, text=True,
                          env=home.env, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    version = json.loads((REPO / "azext_metadata.json").read_text(encoding="utf-8"))["version"]
    assert done.stdout.strip().splitlines()[-1] == version  # the last step printed the installed version
    listed = home("extension", "list", "-o", "json")
    assert [e["name"] for e in listed.json] == ["imds-ext"]
    helped = home("aks", "update", "--help")
    assert helped.code == 0 and "--enable-imds-restriction" in helped.out, done.stderr[-3000:]
    # What the README says of a newer build and of removing it.
    [wheel] = (clone / "dist").glob("imds_ext-*-py3-none-any.whl")
    upgraded = home("extension", "add", "--source", str(wheel), "--upgrade", "--yes")
    assert upgraded.code == 0, upgraded.err
    assert home("extension", "remove", "--name", "imds-ext").code == 0
    assert home("extension", "list", "-o", "json").json == []
