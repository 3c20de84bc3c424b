"""semgan: restoring SEM micrographs of weakly conductive samples with an unpaired CycleGAN.

The package is the single source of truth of the book: every chapter imports it and
stays short. Modules (one concept each):

``images``   reading and writing micrographs, the float32 [0, 1] image contract
``fileformats`` TIFF/PNG/JPEG/BMP decoding and writing, the bits a 16-bit file uses
``tiffmeta`` instrument tags of TIFF micrographs, carried to their restorations
``databar``  the instrument's info bar (and its frame line) at the bottom of a micrograph
``synth``    procedural SEM-like clean micrographs (the embedded default data)
``kernels``  the paper's blur kernels (Gaussian, motion, defocus) and their convolution
``noise``    SEM detector noise (shot, read, scan-line) and its estimate
``degrade``  the paper's degradations A, B and C: blur, fog and optional noise
``datasets`` simulated datasets on disk: building them, the manifest, test pairs
``crops``    source images, the split by source image, cutting and degrading crops
``pipeline`` the tf.data input streams (unpaired and paired batches, epoch order)
``workers``  worker processes that die with their parent; no stale temporary folders
``realdata`` where the shared real micrographs live (optional)
``models``   the multi-scale U-Net generator and the PatchGAN discriminator
``flops``    analytic FLOP and parameter counts of the networks
``losses``   adversarial, cycle (SSIM), identity and edge losses; eq. 16
``plugin``   how a training recipe plugs in: a generator factory and extra loss terms
``recipes``  the training recipes by name (paper: U-Net, eq. 16 alone)
``cpu_recipe`` the filter recipe: filter generator, spectrum and histogram matching
``filtergen`` the filter generator (learned deconvolution filter, smooth tone field)
``matching`` unpaired spectrum and histogram matching losses
``metrics``  SSIM, PSNR, AG, CON, SF
``baselines`` Wiener, Richardson-Lucy, blind deconvolution, constrained least squares
``tuning``   the baselines' regularisation chosen on training pairs
``infer``    tiled whole-image inference, one micrograph file restored
``generators`` generator files: the one saver and loader, the shipped models by name
``batch``    many files restored: outputs planned and checked before any write
``tflog``    TensorFlow imported without its start-up log lines
``evaluate`` every method over a test set, and the one test set of a degradation
``benchmark`` the ``evaluate`` command: shipped generators, test set, tables written
``bootstrap`` confidence intervals of means and paired gains
``labels``   method keys and display names (filter-unpaired, filter-paired, ...)
``tables``   Markdown tables of results
``verdicts`` the verdict on the paper's claims, built from the tables
``config``   settings in sections, training recipes, profiles and ``get_config``
``trainer``  the CycleGAN training step (and the paired oracle's), its models and terms
``train``    a training run: the loop, run folder, resume, saved generators
``gan``      the networks as trained; what a discriminator sees; R1
``optim``    the optimizers (fused Adam) and the learning-rate schedule
``imagepool`` the discriminators' image history pool
``distribute`` distribution strategy, threads, the worker's role
``checkpoint`` atomic checkpoints, the newest intact one, the dataset trained on
``runguard`` one run per folder (lock file), stop on a signal
``runlog``   progress bar, loss CSV, TensorBoard, sample grids
``study``    the convergence study: variant catalogue, harness, scoring
``plotting`` figures, one function per figure type
``explorer`` widgets that work without a kernel: precomputed frames behind linked sliders
``results``  result files that record config, seed and versions
``timing``   benchmark timings: fastest of repeats, the machine they ran on
``checks``   argument checks shared by every public entry point (one rule, one place)
``cli``      ``python -m semgan_core ...``
"""

__version__ = "0.1.0"
