"""One back end per ARM resource provider, each with its typed records, its rules and its rendering:

- resources.py: subscriptions, tenants, resource groups (Microsoft.Resources);
- features.py: preview features (Microsoft.Features) and resource-provider registration;
- containerservice/: managed clusters, agent pools, node images, versions (Microsoft.ContainerService);
- kubernetesconfiguration.py: cluster extensions (Microsoft.KubernetesConfiguration).
None of them knows HTTP; emulator/responses maps requests onto them.
"""
