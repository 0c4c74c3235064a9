"""What every test tier shares: names and api-versions (constants), the one cluster builder (clusters), and
running a command line (cli). The emulator's admin client is the product's own, `imds_ext.emulator.client`."""
