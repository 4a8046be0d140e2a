"""Converters from other projects' checkpoints to interreid's model-pack components.

``llava_reid``: the authors' LLaVA-ReID checkpoint (IRRA retriever, selector, LLaVA-NeXT-layout
questioner) plus the two public base models it was trained from; ``keymaps``: the name maps.
"""
