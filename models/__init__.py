"""Everything torch: input features, networks, checkpoints, losses (arrives with the training issues)."""
