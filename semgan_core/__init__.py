"""semgan: restoring SEM micrographs of weakly conductive samples with an unpaired CycleGAN.

The package is the single source of truth of the book: every chapter imports it and
stays short. Modules (one concept each):

``images``   reading and writing micrographs, the float32 [0, 1] image contract
``fileformats`` TIFF/PNG/JPEG/BMP decoding and writing, the bits a 16-bit file uses
``tiffmeta`` instrument tags of TIFF micrographs, carried to their restorations
``databar``  the instrument's info bar (and its frame line) at the bottom of a micrograph
``synth``    procedural SEM-like clean micrographs (the embedded default data)
``degrade``  blur kernels, fog and the paper's degradation recipes A, B and C
``datasets`` simulated datasets on disk: building them, the manifest, test pairs
``crops``    source images, the split by source image, cutting and degrading crops
``pipeline`` the tf.data input streams (unpaired and paired batches, epoch order)
``workers``  worker processes that die with their parent; no stale temporary folders
``realdata`` where the shared real micrographs live (optional)
``models``   the multi-scale U-Net generator and the PatchGAN discriminator
``losses``   adversarial, cycle (SSIM), identity and edge losses
``metrics``  SSIM, PSNR, AG, CON, SF
``baselines`` Wiener, Richardson-Lucy, blind deconvolution, constrained least squares
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
``config``   profiles (smoke, book, paper) and ``get_config``
``train``    the CycleGAN training step and loop
``gan``      the trainer's models, optimizers and image pools
``checkpoint`` atomic checkpoints, resume and signal handling
``runlog``   progress bar, loss CSV, TensorBoard, sample grids
``study``    the convergence study: variant catalogue, harness, scoring
``plotting`` figures, one function per figure type
``results``  result files that record config, seed and versions
``cli``      ``python -m semgan_core ...``
"""

__version__ = "0.1.0"
