"""Defaults of the landscape metrics, each with where it comes from.

Source of every "paper" value: ``docs/extractors.rst`` ("How the paper measured each
metric": how the MD tree paper, Zhou et al. 2024, measured its features with the research
code of Yang et al. 2021). Values marked "our choice" are engineering settings that do not
change the quantity. The module is plain Python: importing it (``extractors.defaults``)
does not import torch, so ``md_sklearn`` reads the same numbers without torch.
"""

# --- error and loss ---------------------------------------------------------
#: Batch size of the evaluation passes (our choice: results do not depend on it
#: because every model is evaluated in eval mode).
EVAL_BATCH_SIZE = 1024

# --- Hessian (hessian_t, hessian_e) -------------------------------------------
#: Size of the one random batch the Hessian is taken on (paper: 200 samples).
HESSIAN_N_SAMPLES = 200
#: Largest number of Hutchinson probes (paper: at most 100).
TRACE_MAX_PROBES = 100
#: Stop when the running mean of the probes changes by less than this, relative
#: (paper: 0.1 %).
TRACE_RTOL = 1e-3
#: With a precision target (``hessian_trace(target_se=...)``, not in the paper), the
#: fewest probes before the target may stop them: the standard error is then measured
#: from at least this many probe values (our choice).
TRACE_TARGET_MIN_PROBES = 10
#: Largest number of power iterations (paper: 100).
EIGEN_MAX_ITER = 100
#: Stop when the Rayleigh quotient changes by less than this, relative (paper: 1e-3).
EIGEN_RTOL = 1e-3
#: Floor added to the denominator of both relative-change rules, as in the
#: research code (PyHessian: ``abs(new - old) / (abs(old) + 1e-6)``).
RELATIVE_CHANGE_FLOOR = 1e-6
#: Most probes evaluated in one vectorised call (our choice, measured with
#: ``python -m benchmarks extractors``: larger blocks gave no further speed-up).
MAX_PROBE_BLOCK = 16
#: Memory the extra probes of one block may take on the CPU, in bytes (our choice).
PROBE_BLOCK_MEMORY_BYTES = 64 * 2**20
#: On CUDA the budget is this fraction of the device's free memory when the trace
#: starts (``torch.cuda.mem_get_info``), so the block grows on a large device and
#: shrinks on a busy one (our choice).
PROBE_BLOCK_FREE_MEMORY_FRACTION = 0.25

# --- mode connectivity -----------------------------------------------------------
#: Epochs of curve training (paper: 50 for the full 50k-image set; the research
#: code kept the number of steps about constant, epochs = int(10 / fraction) * 5).
CURVE_EPOCHS = 50
#: Mini-batch size of curve training and of the BatchNorm re-estimate (paper: 128).
CURVE_BATCH_SIZE = 128
#: Base learning rate of curve training (paper: 0.01).
CURVE_LR = 0.01
#: SGD momentum of curve training (paper: 0.9).
CURVE_MOMENTUM = 0.9
#: Weight of the ½·wd·‖θ(t)‖² term of the curve loss (paper: 5e-4).
CURVE_WEIGHT_DECAY = 5e-4
#: Points of the curve that are evaluated (paper: t = 0.25, 0.5, 0.75).
CURVE_POINTS = (0.25, 0.5, 0.75)
#: Garipov et al. (2018) learning-rate schedule, per epoch: factor 1 up to this
#: fraction of the epochs ...
LR_SCHEDULE_FLAT_UNTIL = 0.5
#: ... then linearly down to LR_SCHEDULE_FINAL_FACTOR at this fraction ...
LR_SCHEDULE_DECAY_UNTIL = 0.9
#: ... and this factor afterwards.
LR_SCHEDULE_FINAL_FACTOR = 0.01

# --- CKA ----------------------------------------------------------------------
#: Number of shuffled training batches (paper: 6).
CKA_N_BATCHES = 6
#: Size of each batch (paper: 128, so 768 samples in all).
CKA_BATCH_SIZE = 128
#: Mixup parameter: one λ ~ Beta(16, 16) per batch (paper).
CKA_MIXUP_ALPHA = 16.0

# --- manifold size (model expansion) ------------------------------------------------
# The paper behind it (Malviya et al. 2024, arXiv 2405.15895) gives no formulas we
# could read; every value below is OUR DESIGN (docs/expansion.rst) or an
# engineering choice, not a number of the paper.
#: Relative loss tolerance of the low-loss region: a point is "on the manifold" when
#: its loss is at most (1 + rtol) times the anchor's (our design: 5 %).
MANIFOLD_RTOL = 0.05
#: Absolute floor added to that tolerance, in nats (our choice: keeps the region
#: non-empty for a model that fits its data almost perfectly).
MANIFOLD_ATOL = 1e-3
#: Samples every loss is measured on, drawn once per call (our choice: the whole
#: training set of small data, a fixed cost on large data).
MANIFOLD_N_SAMPLES = 1024
#: Mini-batch size of training steps and of the BatchNorm re-estimate (our choice).
MANIFOLD_BATCH_SIZE = 128
#: Vertices added to the anchor by method="simplex" (our design: K = 3).
MANIFOLD_N_VERTICES = 3
#: Random filter-normalised directions of method="radius" (our choice).
MANIFOLD_N_DIRECTIONS = 8
#: Fine-tuned copies of method="lmc" (our choice: 6 pairs).
MANIFOLD_N_COPIES = 4
#: Gradient steps per simplex vertex, or per fine-tuned copy (our choice).
MANIFOLD_N_STEPS = 30
#: Learning rate of those steps (our choice, SGD with MANIFOLD_MOMENTUM: the constant
#: rate the package's digits models are trained with, so stable at their minima).
MANIFOLD_LR = 0.05
#: SGD momentum of vertex training and fine-tuning (our choice, as CURVE_MOMENTUM).
MANIFOLD_MOMENTUM = 0.9
#: Weight of the simplex log-volume in the vertex objective, loss - weight * log-volume
#: (our design: "a small regulariser pushes the log-volume up").
MANIFOLD_VOLUME_WEIGHT = 1e-2
#: Dirichlet(1) convex combinations per training step (our design: "a few").
MANIFOLD_POINTS_PER_STEP = 2
#: Random interior points (Dirichlet(1)) checked, with the vertex and the edge
#: midpoints, before a vertex is accepted (our choice).
MANIFOLD_N_INTERIOR = 4
#: Initial offset of a new vertex from the centroid: per parameter tensor, Gaussian
#: noise of this norm relative to the tensor's norm (our design: "small noise").
MANIFOLD_INIT_NOISE = 0.01
#: Line search, on a log scale: at most this many doublings of the step ...
MANIFOLD_MAX_DOUBLINGS = 6
#: ... or halvings when the first step fails ...
MANIFOLD_MAX_HALVINGS = 8
#: ... then this many bisections between the last passing and first failing step
#: (our choice: a factor 2**(1/16), about 4 %, of resolution).
MANIFOLD_N_BISECTIONS = 4
#: First step of method="radius", in units of the filter-normalised direction (a
#: step of 1 moves every filter by its own norm; our choice).
MANIFOLD_RADIUS_START = 0.05
#: Points of the straight line between two copies where method="lmc" measures the
#: loss (as CURVE_POINTS).
MANIFOLD_LMC_POINTS = (0.25, 0.5, 0.75)
#: Most copies method="lmc" accepts (the largest clique is found by enumeration).
MANIFOLD_MAX_COPIES = 16
