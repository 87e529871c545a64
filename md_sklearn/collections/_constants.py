"""The paper's training recipe and the layout of a collection folder, in one place."""

# Training recipe of the published collections (MD tree paper, Appendix C.3, after
# Yang et al. 2021; see the shared docs/metrics.md): SGD with momentum 0.9, weight
# decay 5e-4, a constant learning rate of about 0.05, no augmentation.
PAPER_LR = 0.05
PAPER_MOMENTUM = 0.9
PAPER_WEIGHT_DECAY = 5e-4

# The research code kept the number of SGD steps about constant across data amounts
# (epochs = int(10 / data_fraction) * 5 for the 50k-image set, docs/metrics.md).
EPOCH_SCALINGS = ("constant_steps", "constant_epochs")

# Folder layout of a collection (see build_collection's docstring).
MANIFEST_NAME = "manifest.json"
CONFIGURATIONS_NAME = "configurations.csv"
MEMBERS_NAME = "members.csv"
MODELS_DIR = "models"
MANIFEST_FORMAT = "md-sklearn-collection/1"
