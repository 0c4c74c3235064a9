"""imds-ext: restrict pod access to the Azure Instance Metadata Service on AKS, end to end.

One wheel serves two installs:
- standalone (`pip install imds-ext[standalone]`): the `az-imds` command, the ARM emulator;
- Azure CLI extension (`az extension add --source imds_ext-*.whl`): see README "Dependencies".
"""
import json
import os

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))

with open(os.path.join(HERE, "azext_metadata.json"), encoding="utf-8") as f:
    _METADATA = json.load(f)

VERSION = _METADATA["version"]

# What the `azext_imds` module needs on top of what the Azure CLI already ships. `az extension add`
# pip-installs these into the extension folder, so anything az already has must NOT be listed here,
# or it would be installed a second time and could shadow az's own copy.
DEPENDENCIES = []

# The standalone CLI and the embedded emulator. az already carries the Azure SDKs, knack and
# azure-identity; the standalone install brings its own.
STANDALONE = [
    "knack>=0.11.0",
    "azure-core>=1.30.0",
    "azure-identity>=1.15.0",
    "azure-mgmt-containerservice>=40.0.0",
    "azure-mgmt-resource>=23.0.0",
    "azure-mgmt-resource-features>=1.0.0",
    "azure-mgmt-resource-subscriptions>=1.0.0",  # --all-subscriptions (split out of azure-mgmt-resource 24)
    "werkzeug>=3.0",
    "cheroot>=10.0",
    "humanfriendly>=10.0",
    "jsonschema>=4.0",
    "trustme>=1.1",
    "PyJWT[crypto]>=2.8",
    "cryptography>=42",
    "requests>=2.31",
]


class BuildPy(build_py):
    """Ship the top-level azext_metadata.json (the one source) inside `azext_imds`, where az reads it."""

    def run(self):
        super().run()
        target = os.path.join(self.build_lib, "azext_imds", "azext_metadata.json")
        self.mkpath(os.path.dirname(target))
        self.copy_file(os.path.join(HERE, "azext_metadata.json"), target)


setup(
    name="imds_ext",
    cmdclass={"build_py": BuildPy},
    version=VERSION,
    description="Restrict pod access to the Azure Instance Metadata Service (IMDS) on AKS, end to end.",
    long_description=open(os.path.join(HERE, "README.md"), encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="MIT",
    python_requires=">=3.10",
    package_dir={"": "src"},
    packages=find_packages("src"),
    package_data={"azext_imds": ["azext_metadata.json"]},
    install_requires=DEPENDENCIES,
    extras_require={
        "standalone": STANDALONE,
        "test": STANDALONE + ["pytest>=7", "pyyaml>=6", "build>=1.0", "ruff>=0.5", "hypothesis>=6",
                          "kubernetes>=31",  # the official client, against the emulated API servers
                          "openapi-spec-validator>=0.7"],  # the OpenAPI documents they publish
    },
    entry_points={"console_scripts": ["az-imds=imds_ext.launcher:main"]},
    classifiers=[
        "Development Status :: 4 - Beta",
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3.10",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
    ],
)
