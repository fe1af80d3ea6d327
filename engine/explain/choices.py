"""The attribution methods ConvPad offers, by name: plain data, importable without torch,
so ``convpad --help`` and the window's picker do not wait for torch or Captum."""

METHODS = ("occlusion", "integrated-gradients", "saliency", "grad-cam")
