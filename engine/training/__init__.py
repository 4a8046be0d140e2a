"""Training the model pack's parts (paper §4.2-4.3, §5.1; docs/training.md): looking-forward
supervision (``prepare``), the IRRA retriever, the selector warm-up, the questioner's QLoRA SFT
and joint selector + questioner training. ``interreid train STAGE`` runs each one.
Heavy libraries are imported inside the stage modules' functions."""
