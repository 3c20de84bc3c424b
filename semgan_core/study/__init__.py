"""The convergence study: which training recipe sharpens at CPU scale, measured fairly.

* :mod:`~semgan_core.study.variants`: the catalogue of named variants (config overrides
  of one training recipe);
* :mod:`~semgan_core.study.harness`: :func:`~semgan_core.study.harness.run_variants`
  trains them side by side on one dataset and budget, resumably, and
  :func:`~semgan_core.study.harness.read_study` / ``summary_table`` read the result;
* :mod:`~semgan_core.study.scoring`: G's PSNR and SSIM on validation pairs at each
  checkpoint, and the reference lines (blurred input, Wiener).

The curves are drawn by :func:`semgan_core.plotting.convergence_curves`.
"""
